"""Domain objects to message text: Jalali dates in Tehran time, Persian digits, per platform."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from bot.runtime.platforms import Raw, Renderer
from bot.ui import texts
from desk import validation
from desk.model import (
    COMMENTER_ROLES,
    OPEN_STATUSES,
    ChatRef,
    Draft,
    DraftStatus,
    Kind,
    Platform,
    Request,
    Status,
    described_by_voice,
)
from desk.routing import Choice, RoutingRules
from desk.services import QuotaExceeded
from desk.text import to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")


def jalali(moment: datetime, *, with_time: bool = True) -> str:
    """«۷ آذر ۱۴۰۵، ساعت ۱۲:۳۰» for an aware UTC datetime, in Tehran time."""
    local = moment.astimezone(TEHRAN)
    j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
    template = texts.DATE_TIME if with_time else texts.DATE_ONLY
    return template.format(
        day=to_persian_digits(j.day),
        month=texts.MONTHS[j.month - 1],
        year=to_persian_digits(j.year),
        time=to_persian_digits(f"{local.hour:02d}:{local.minute:02d}"),
    )


def not_before(moment: datetime) -> str:
    """`jalali` of the first whole minute at or after `moment`: «from 10:31» never names a
    minute in which the citizen would still be refused."""
    whole = moment.replace(second=0, microsecond=0)
    return jalali(whole if whole == moment else whole + timedelta(minutes=1))


def quota(ui: Renderer, refused: QuotaExceeded, then: str, **data: str) -> str:
    """Why a citizen must wait (the limit kindly), then `then` with the time they may again."""
    time = not_before(refused.retry_at)
    limit = to_persian_digits(refused.limit)
    if refused.window > timedelta(hours=1):
        reason = ui.fmt(texts.QUOTA_FILINGS["day"], limit=limit)
    else:
        reason = ui.fmt(texts.QUOTA_FILINGS["hour"], limit=limit)
    return f"{reason}\n{ui.fmt(then, time=time, **data)}"


def clarification_quota(ui: Renderer, refused: QuotaExceeded) -> str:
    """The clarification quota: this message did not reach the unit; when to send it again."""
    return ui.fmt(
        texts.QUOTA_CLARIFICATIONS,
        limit=to_persian_digits(refused.limit),
        time=not_before(refused.retry_at),
    )


def clock_time(moment: datetime) -> str:
    """«۱۴:۰۵» in Tehran time."""
    local = moment.astimezone(TEHRAN)
    return to_persian_digits(f"{local.hour:02d}:{local.minute:02d}")


def code(ui: Renderer, value: str) -> Raw:
    """A tracking code in Persian digits, tap-to-copy where the platform allows."""
    return Raw(ui.code(to_persian_digits(value)))


# A phone number's digit groups after Persian letters are Arabic numbers to the bidi algorithm:
# «۰۵۶-۳۲۲۲۴۴۱۰» would be laid out as «۳۲۲۲۴۴۱۰-۰۵۶». A left-to-right mark on each side makes
# the number one left-to-right run. LRM, not the isolates LRI/PDI: the mark is as old as the
# bidi algorithm itself, so an old Android phone honours it too (isolates are Unicode 6.3).
LRM = "\u200e"


def phone_text(value: str) -> str:
    """A phone number as people read it: Persian digits, its groups left to right in order."""
    return f"{LRM}{to_persian_digits(value)}{LRM}"


def phone(ui: Renderer, value: str) -> Raw:
    """`phone_text` escaped for the platform, to fill a template's {phone}. Citizens' own
    direction marks never get here: desk.text.normalize drops them from anything typed."""
    return Raw(ui.esc(phone_text(value)))


def unit_name(rules: RoutingRules, key: str | None) -> str:
    """A unit's Persian name, or a dash."""
    if key is None or key not in rules.units:
        return texts.NOT_GIVEN
    return rules.units[key].name


def status_name(request: Request, rules: RoutingRules) -> str:
    """The status in the citizen's words (a closed request's with its reason)."""
    if request.status is Status.CLOSED and request.close_reason:
        reason = texts.CLOSE_REASONS.get(request.close_reason, request.close_reason)
        return texts.CLOSED_WITH.format(reason=reason)
    name = texts.STATUS_NAMES[request.status]
    if request.status is Status.ROUTED:
        return name.format(unit=unit_name(rules, request.unit))
    return name


def receipt(ui: Renderer, request: Request, rules: RoutingRules, draft: Draft | None = None) -> str:
    """What a citizen reads after filing: code, date, and what happens next (a draft comment's
    names the draft, when `draft` is given)."""
    unit = unit_name(rules, request.unit)
    if request.anonymous:
        next_step = texts.NEXT_ANONYMOUS.format(unit=unit)
    elif request.unnamed:
        next_step = texts.NEXT_UNNAMED.format(unit=unit)
    else:
        due = rules.sla.days.get(request.kind, 10)
        next_step = texts.NEXT_STEPS[request.kind].format(unit=unit, due=to_persian_digits(due))
    yours = texts.YOUR_KIND[request.kind]
    if request.kind is Kind.COMMENT and draft is not None:
        yours = texts.YOUR_COMMENT_ON.format(title=draft.title)  # escaped by fmt below
    if request.kind in texts.UNTRACKED_KINDS:
        return ui.fmt(
            texts.RECEIPT_UNTRACKED,
            yours=yours,
            date=jalali(request.created_at),
            code=code(ui, request.code),
            next=next_step,
        )
    return ui.fmt(
        texts.RECEIPT,
        yours=yours,
        date=jalali(request.created_at),
        code=code(ui, request.code),
        next=next_step,
    )


def status_card(
    ui: Renderer,
    request: Request,
    rules: RoutingRules,
    *,
    full: bool,
    contact_button: str,
    offer_contact: bool = True,
) -> str:
    """A request's status; its text and answer only when `full`; otherwise how to see them
    (unless `offer_contact` is off: a shared number would not show them now)."""
    body = ui.fmt(
        texts.STATUS_CARD,
        kind=texts.KIND_NAMES[request.kind],
        code=code(ui, request.code),
        status=status_name(request, rules),
        created=jalali(request.created_at),
        updated=jalali(request.updated_at),
        unit=unit_name(rules, request.unit),
    )
    if request.due_at is not None and request.status in OPEN_STATUSES:
        body += ui.fmt(texts.STATUS_DUE, due=jalali(request.due_at))
    if full:
        body += ui.fmt(texts.STATUS_TEXT, text=request.text)
        if request.answer:
            body += ui.fmt(
                texts.STATUS_ANSWER,
                date=jalali(request.answered_at or request.updated_at),
                answer=request.answer,
            )
    elif request.contact.phone and offer_contact:
        body += ui.fmt(texts.STATUS_ONLY_NOTE, button=contact_button)
    return body


def my_requests(ui: Renderer, requests: list[Request], rules: RoutingRules) -> str:
    """The list under «درخواست‌های من»."""
    if not requests:
        return texts.MINE_EMPTY
    lines = [texts.MINE_TITLE]
    for r in requests:
        lines.append(
            ui.fmt(
                texts.MINE_LINE,
                kind=texts.KIND_NAMES[r.kind],
                code=code(ui, r.code),
                status=status_name(r, rules),
                date=jalali(r.created_at, with_time=False),
            )
        )
    lines.append(texts.MINE_FOOTER)
    return "\n".join(lines)


# --- staff side --------------------------------------------------------------------------------


def due_text(request: Request) -> str:
    """The deadline, or a dash when the kind has none."""
    return jalali(request.due_at) if request.due_at else texts.NOT_GIVEN


def _choice_name(choices: tuple[Choice, ...], key: str | None) -> str:
    for choice in choices:
        if choice.key == key:
            return choice.name
    return texts.NOT_GIVEN


def staff_status(request: Request, rules: RoutingRules, now: datetime) -> str:
    """Status in the staff's words (not the citizen's): who is on it, the close reason, and
    «معوق» when overdue."""
    if request.status is Status.CLOSED and request.close_reason:
        return texts.STAFF_CLOSED_WITH.format(
            reason=texts.CLOSE_REASONS.get(request.close_reason, request.close_reason)
        )
    name = texts.STAFF_STATUS_NAMES[request.status]
    if request.status is Status.IN_PROGRESS and request.claimed_by:
        who = clip(request.claimed_by.split(" (", 1)[-1].rstrip(")"), CARD_NAME_MAX)
        name = texts.STAFF_IN_PROGRESS_BY.format(who=who)
    if request.is_overdue(now):
        name = f"{name} — {texts.CARD_OVERDUE}"
    return name


def close_preview(
    ui: Renderer, request: Request, rules: RoutingRules, reason: str, who: str
) -> str:
    """The question before «بستن» happens: the exact sentence the citizen will read, or why
    nobody will read one."""
    shown = to_persian_digits(request.code)
    label = texts.CLOSE_REASONS.get(reason, reason)
    silent = "nobody" if request.chat is None else ("spam" if reason == "spam" else "")
    if silent:
        return ui.fmt(texts.STAFF_CONFIRM_CLOSE_SILENT, who=who, code=shown, reason=label,
                      why=texts.STAFF_CLOSE_TELLS_NOBODY[silent])  # fmt: skip
    sentence = citizen_notice(ui, request, rules, {"template": "closed", "reason": reason})
    return ui.fmt(texts.STAFF_CONFIRM_CLOSE, who=who, code=shown, reason=label,
                  sentence=Raw(sentence))  # fmt: skip


def card_is_live(request: Request, rules: RoutingRules, chat: ChatRef) -> bool:
    """Whether this chat is where the request's unit works on it now."""
    return request.unit is not None and rules.staff_chat(request.unit, request.platform) == chat


def staff_card(
    ui: Renderer,
    request: Request,
    rules: RoutingRules,
    chat: ChatRef,
    now: datetime,
    extra: dict[str, object] | None = None,
    draft: Draft | None = None,
) -> str:
    """The card a unit's chat shows for a request, always from the request's current state;
    a draft comment's card names the draft (`draft`), the section and who the author said
    they comment as."""
    extra = extra or {}
    if request.kind is Kind.SURVEY and request.survey:
        answers = request.survey.get("answers") or []
        assert isinstance(answers, list)
        lines = "\n".join(
            ui.fmt(texts.CARD_SURVEY_LINE, question=a["question"],
                   score=to_persian_digits(a["score"]))
            for a in answers
        )  # fmt: skip
        return ui.fmt(
            texts.CARD_SURVEY,
            code=code(ui, request.code),
            service=request.survey.get("service", ""),
            created=jalali(request.created_at),
            answers=Raw(lines),
            text=request.text or texts.NOT_GIVEN,
        )
    name = request.contact.name or (texts.CARD_ANONYMOUS if request.anonymous else "—")
    if request.unnamed:  # the citizen chose to stay unnamed: never who, only that they can hear
        name = texts.CARD_UNNAMED
    head = dict(
        kind=Raw(ui.bold(texts.KIND_NAMES[request.kind])),
        code=code(ui, request.code),
        status=staff_status(request, rules, now),
        unit=unit_name(rules, request.unit),
        topic=_choice_name(rules.topics, request.topic),
        county=_choice_name(rules.counties, request.county),
        created=jalali(request.created_at),
        due=due_text(request),
        name=clip(name, CARD_NAME_MAX),
        phone=phone(ui, request.contact.phone)
        if request.contact.phone and not request.unnamed
        else "—",
        platform=texts.PLATFORM_NAMES.get(request.platform.value if request.platform else "", "—"),
        about=Raw(_comment_about(ui, request, draft)),
    )
    notes = ""
    if request.claimed_by:
        who = request.claimed_by.split(" (", 1)[-1].rstrip(")")
        notes += ui.fmt(texts.CARD_CLAIMED, who=clip(who, CARD_NAME_MAX))
    if extra.get("from_unit"):
        reason = clip(str(extra.get("reason") or ""), CARD_REASON_MAX)
        notes += ui.fmt(
            texts.CARD_TRANSFERRED_IN,
            unit=unit_name(rules, str(extra["from_unit"])),
            by=clip(str(extra.get("by") or "—"), CARD_NAME_MAX),
            reason=Raw(ui.fmt(texts.CARD_REASON, reason=reason) if reason else ""),
        )
    if not card_is_live(request, rules, chat):
        tail = ui.fmt(texts.CARD_TRANSFERRED_OUT, unit=unit_name(rules, request.unit))
    elif request.is_open:
        tail = texts.CARD_REPLY_HINT if request.chat is not None else texts.CARD_NOBODY_HINT
    else:
        tail = ""
    date = jalali(request.answered_at or request.updated_at)
    frame = ui.fmt(texts.CARD_ANSWER, date=date, answer="") if request.answer else ""
    empty = ui.fmt(texts.CARD, **head, text="")
    # a voice note that is the description follows the card in its thread: the card says so
    voice = texts.CARD_VOICE_DESCRIPTION if described_by_voice(request.attachments) else ""
    # the description and the answer share what the frame leaves; the answer gives way first,
    # but never below half of it, so a long complaint cannot push a long answer off the card
    parts = (empty, voice, notes, tail, frame)
    room = MAX_CARD - sum(_visible_length(ui, part) for part in parts)
    answer = request.answer or ""
    text_room = max(room - validation.message_length(answer), room // 2) if answer else room
    text = clip(request.text, text_room)
    body = ui.fmt(texts.CARD, **head, text=text) + voice + notes
    if answer:
        answer_room = room - validation.message_length(text)
        body += ui.fmt(texts.CARD_ANSWER, date=date, answer=clip(answer, answer_room))
    return body + tail


MAX_CARD = 4000  # messengers take 4,096 per message; the answer on a card gives way first
# older rows may hold names and reasons longer than the bot now accepts; a card clips them
CARD_NAME_MAX = 100
CARD_DRAFT_TITLE_MAX = 200
CARD_REASON_MAX = 600


def _visible_length(ui: Renderer, text: str) -> int:
    """What a messenger counts of a rendered text: tags and entities count as what they show."""
    if ui.html:
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return validation.message_length(text)


def clip(text: str, room: int) -> str:
    """`text` cut to at most `room` UTF-16 units, ending in «…» when cut (never inside a
    surrogate pair: the cut is made on characters)."""
    if validation.message_length(text) <= room:
        return text
    out, used = [], 1  # the «…»
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            break
        out.append(char)
    return "".join(out).rstrip() + "…"


def staff_note(
    ui: Renderer, request: Request | None, rules: RoutingRules, data: dict[str, object]
) -> str:
    """A note in a request's thread (citizen's clarification, reminders, ...)."""
    template = texts.NOTES[str(data["template"])]
    head = unit_name(rules, rules.sla.escalate_to)
    values: dict[str, object] = {"text": data.get("text", ""), "head": head}
    if request is not None:
        values |= {"code": code(ui, request.code), "due": due_text(request)}
    return ui.fmt(template, **values)


def escalation(ui: Renderer, request: Request, rules: RoutingRules) -> str:
    """What the head's office reads about an overdue request."""
    return ui.fmt(
        texts.ESCALATION,
        kind=texts.KIND_NAMES[request.kind],
        code=code(ui, request.code),
        unit=unit_name(rules, request.unit),
        due=due_text(request),
        topic=_choice_name(rules.topics, request.topic),
        county=_choice_name(rules.counties, request.county),
    )


def digest(ui: Renderer, rules: RoutingRules, units: dict[str, list[str]], now: datetime) -> str:
    """The daily digest of overdue requests per unit."""
    lines = [ui.fmt(texts.DIGEST_TITLE, date=jalali(now, with_time=False))]
    total = 0
    for unit, codes in sorted(units.items(), key=lambda item: -len(item[1])):
        total += len(codes)
        shown = "، ".join(to_persian_digits(c) for c in codes[:20])
        lines.append(
            ui.fmt(texts.DIGEST_LINE, unit=unit_name(rules, unit),
                   count=to_persian_digits(len(codes)), codes=shown)
        )  # fmt: skip
    lines.append(ui.fmt(texts.DIGEST_TOTAL, count=to_persian_digits(total)))
    return "\n".join(lines)


def citizen_notice(
    ui: Renderer, request: Request, rules: RoutingRules, data: dict[str, object]
) -> str:
    """A later message to the citizen about their request."""
    template = texts.CITIZEN[str(data["template"])]
    reason = str(data.get("reason") or "")
    return ui.fmt(
        template,
        yours=texts.YOUR_KIND[request.kind],
        code=code(ui, request.code),
        unit=unit_name(rules, request.unit),
        question=data.get("question", ""),
        answer=data.get("answer", ""),
        reason=texts.CLOSE_REASONS.get(reason, reason),
        button=texts.BTN_REPLY_QUESTION,
    )


# --- draft regulations -------------------------------------------------------------------------

ANNOUNCE_SUMMARY = 1500


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def draft_card(ui: Renderer, draft: Draft, rules: RoutingRules, *, announce: bool = False) -> str:
    """A draft as citizens see it: title, summary, owning unit, deadline."""
    return ui.fmt(
        texts.DRAFT_ANNOUNCE if announce else texts.DRAFT_CARD,
        title=Raw(ui.bold(draft.title)),
        summary=_short(draft.summary, ANNOUNCE_SUMMARY),
        unit=unit_name(rules, draft.unit),
        deadline=jalali(draft.closes_at),
    )


def draft_reminder(ui: Renderer, draft: Draft) -> str:
    """Two days left."""
    return ui.fmt(texts.DRAFT_REMINDER, title=draft.title, deadline=jalali(draft.closes_at))


def draft_sections(ui: Renderer, draft: Draft) -> str:
    """The summary as numbered sections, to pick one to comment on."""
    return "\n\n".join(
        ui.fmt(texts.DRAFT_SECTION, n=to_persian_digits(i), text=text)
        for i, text in enumerate(draft.sections(), start=1)
    )


def section_label(draft: Draft | None, section: int | None) -> str:
    """«کل پیش‌نویس» or «بخش ۲» (the digest's lines, the workbook's column)."""
    if not section:
        return texts.DRAFT_WHOLE
    return texts.BTN_SECTION.format(n=to_persian_digits(section))


def commenter_role(request: Request) -> str:
    """Who a comment's author said they comment as, or «نگفته است»."""
    return texts.COMMENTER_ROLES.get(request.commenter_role or "", texts.ROLE_UNSAID)


def _comment_about(ui: Renderer, request: Request, draft: Draft | None) -> str:
    """A comment card's lines naming the draft, the section and the author's role."""
    if request.kind is not Kind.COMMENT:
        return ""
    title = draft.title if draft is not None else f"#{to_persian_digits(request.draft_id or 0)}"
    return ui.fmt(
        texts.CARD_DRAFT,
        title=clip(title, CARD_DRAFT_TITLE_MAX),
        part=section_label(draft, request.section),
        role=commenter_role(request),
    )


def role_counts(comments: list[Request]) -> list[tuple[str, int]]:
    """Comments per role, in the order of the question, those who did not say last; only
    roles somebody chose."""
    counts: dict[str, int] = {}
    for request in comments:
        role = request.commenter_role or ""
        role = role if role in COMMENTER_ROLES else ""
        counts[role] = counts.get(role, 0) + 1
    order = [*COMMENTER_ROLES, ""]
    return [(role, counts[role]) for role in order if counts.get(role)]


def draft_digest(ui: Renderer, draft: Draft, comments: list[Request]) -> str:
    """Counts per section for the owning unit, as the XLSX file's caption."""
    counts: dict[int, int] = {}
    for request in comments:
        counts[request.section or 0] = counts.get(request.section or 0, 0) + 1
    lines = [
        ui.fmt(texts.DRAFT_DIGEST_LINE, part=section_label(draft, section),
               count=to_persian_digits(count))
        for section, count in sorted(counts.items())
    ]  # fmt: skip
    return ui.fmt(
        texts.DRAFT_DIGEST,
        title=draft.title,
        closed=jalali(draft.closed_at or draft.closes_at),
        count=to_persian_digits(len(comments)),
        per_section=Raw("\n".join(lines) + _digest_roles(ui, comments)),
    )


def _digest_roles(ui: Renderer, comments: list[Request]) -> str:
    """The digest's count of comments per role (nothing when there are no comments)."""
    lines = [
        ui.fmt(texts.DRAFT_DIGEST_LINE,
               part=texts.COMMENTER_ROLES.get(role, texts.ROLE_UNSAID),
               count=to_persian_digits(count))
        for role, count in role_counts(comments)
    ]  # fmt: skip
    return ui.fmt(texts.DRAFT_DIGEST_ROLES, per_role=Raw("\n".join(lines))) if lines else ""


def draft_outcome(ui: Renderer, draft: Draft, request_code: str) -> str:
    """The final version (or the withdrawal), to a citizen who commented."""
    return ui.fmt(
        texts.DRAFT_WITHDRAWN_OUTCOME
        if draft.status is DraftStatus.WITHDRAWN
        else texts.DRAFT_OUTCOME,
        title=draft.title,
        note=draft.final_note or "",
        code=code(ui, request_code),
    )


def draft_admin(ui: Renderer, draft: Draft, data: dict[str, object]) -> str:
    """Announcement progress for the admins."""
    if data.get("template") == "draft_opened":
        return ui.fmt(texts.DRAFT_OPENED_ADMIN, title=draft.title,
                      total=to_persian_digits(str(data.get("total", 0))))  # fmt: skip
    failed = int(str(data.get("failed") or 0))
    return ui.fmt(
        texts.DRAFT_PROGRESS_ADMIN,
        title=draft.title,
        sent=to_persian_digits(str(data.get("sent", 0))),
        total=to_persian_digits(str(data.get("total", 0))),
        failed=Raw(texts.DRAFT_PROGRESS_FAILED.format(failed=to_persian_digits(failed))
                   if failed else ""),
    )  # fmt: skip


def drafts_list(ui: Renderer, drafts: list[Draft], subscribed: bool) -> str:
    """«پیش‌نویس مقررات»: the open drafts and the citizen's subscription."""
    lines = [texts.DRAFTS_TITLE if drafts else texts.DRAFTS_NONE]
    lines += [ui.fmt(texts.DRAFT_LINE, title=d.title, deadline=jalali(d.closes_at)) for d in drafts]
    lines += ["", texts.DRAFTS_SUBSCRIPTION_ON if subscribed else texts.DRAFTS_SUBSCRIPTION_OFF]
    return "\n".join(lines)


def group_name(rules: RoutingRules, chat: ChatRef) -> str:
    """What staff call a group the bot writes to: its unit, or the admins' group."""
    unit = rules.unit_for_chat(chat.platform, chat.chat_id)
    if unit is not None:
        return unit.name
    if chat.chat_id in rules.admins.get(chat.platform, frozenset()):
        return texts.ALERT_ADMIN_GROUP
    return str(chat.chat_id)


def admin_alert(ui: Renderer, rules: RoutingRules, data: dict[str, object]) -> str:
    """An alert for the admin chats (a group held or back, rows parked, a bad token, a wave of
    failed look-ups)."""
    template = data.get("template")
    platform = texts.PLATFORM_NAMES.get(str(data.get("platform")), str(data.get("platform")))
    if template in ("held", "released"):
        chat = ChatRef(Platform(str(data["platform"])), int(str(data["chat_id"])))
        group = group_name(rules, chat)
        if template == "released":
            return ui.fmt(texts.ALERT_RELEASED, group=group, platform=platform)
        new_id = data.get("new_chat_id")
        todo = (
            ui.fmt(texts.ALERT_HELD_MIGRATED, new_id=new_id, old_id=chat.chat_id)
            if new_id is not None
            else texts.ALERT_HELD_TODO
        )
        reason = str(data.get("reason") or "")[:200]
        return ui.fmt(texts.ALERT_HELD, group=group, platform=platform, reason=reason,
                      todo=Raw(todo))  # fmt: skip
    if template == "lookups":
        return ui.fmt(texts.ALERT_LOOKUPS, count=to_persian_digits(int(str(data.get("count")))))
    if template == "token":
        other = texts.PLATFORM_NAMES.get(str(data.get("other")), "")
        setting = f"{str(data.get('platform')).upper()}_BOT_TOKEN"
        return ui.fmt(texts.ALERT_UNAUTHORIZED, platform=platform, setting=setting, other=other)
    rows = data.get("rows")
    items = rows if isinstance(rows, list) else []
    lines = []
    for row in items[:5]:
        assert isinstance(row, dict)
        lines.append(
            ui.fmt(
                texts.ALERT_PARKED_LINE,
                id=row.get("id"),
                kind=texts.ALERT_KINDS.get(str(row.get("kind")), str(row.get("kind"))),
                platform=texts.PLATFORM_NAMES.get(str(row.get("platform")), ""),
                error=str(row.get("error") or "")[:120],
            )
        )
    count = int(str(data.get("count") or len(items)))
    if count > len(lines):
        lines.append(ui.fmt(texts.ALERT_PARKED_MORE, count=to_persian_digits(count - len(lines))))
    return ui.fmt(texts.ALERT_PARKED, count=to_persian_digits(count), lines=Raw("\n".join(lines)))
