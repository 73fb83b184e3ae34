"""One sender per notice kind: each renders its row's Persian text from the request as it is
now (the outbox is rendered late) and sends it. `NoticeSender` is the `Sender` port the loop
calls; it picks the kind's sender from a table (`by_kind`), a broadcast's by its template."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from bot.ports import DraftFiles, MessageLinks, OutboxStore, Sent
from bot.runtime.platforms import PlatformBot
from bot.ui import keyboards, render
from bot.ui.workbooks import comments_workbook
from bot.workers.delivery.errors import Permanent
from bot.workers.delivery.files import FileCopies, reply_kwargs, reply_to
from bot.workers.delivery.pacing import RateLimiter
from desk.model import ChatRef, Draft, NoticeKind, Platform, Request
from desk.outbox import Pending
from desk.ports import Clock, UnitOfWorkFactory
from desk.routing import RoutingRules

log = logging.getLogger(__name__)

KindSender = Callable[[PlatformBot, Pending, Request | None], Awaitable[Sent]]
"""Sends one row of its kind (the row's request read already, None for a row without one)."""

# A citizen's text with a button under it, and its part in the thread; any other is a "notice".
_CITIZEN_REPLIES: dict[str, tuple[str, Callable[[str], InlineKeyboardMarkup]]] = {
    "answer": ("answer", keyboards.rating),
    "question": ("question", keyboards.reply_to_question),
}


class NoticeSender:
    """Sends one outbox row with the bot of its platform; returns (message id, link role) for
    the thread map. Raises `Permanent` for a row that can never go (its request or draft is
    gone), and whatever the platform answered otherwise, for the loop to classify."""

    def __init__(
        self,
        *,
        bots: Mapping[Platform, PlatformBot],
        rules: RoutingRules,
        clock: Clock,
        wall: Clock,
        uow: UnitOfWorkFactory,
        outbox: OutboxStore,
        links: MessageLinks,
        files: DraftFiles,
        limiters: Mapping[Platform, RateLimiter],
    ) -> None:
        self.bots = bots
        self.rules = rules
        self.clock = clock  # business time: what cards say (overdue, dates)
        self.wall = wall  # physical time: when links are recorded, refreshes covered
        self.uow = uow
        self.outbox = outbox
        self.links = links
        self.files = files
        self.copies = FileCopies(bots=bots, outbox=outbox, links=links, limiters=limiters,
                                 wall=wall)  # fmt: skip
        self.by_kind: dict[NoticeKind, KindSender] = {
            NoticeKind.STAFF_CARD: self._staff_card,
            NoticeKind.CARD_REFRESH: self._card_refresh,
            NoticeKind.STAFF_NOTE: self._staff_note,
            NoticeKind.BROADCAST: self._broadcast,
            NoticeKind.CITIZEN_TEXT: self._citizen_text,
            NoticeKind.DRAFT_ANNOUNCE: self._draft_announce,
            NoticeKind.DRAFT_REMINDER: self._draft_reminder,
            NoticeKind.DRAFT_DIGEST: self._draft_digest,
            NoticeKind.DRAFT_OUTCOME: self._draft_outcome,
            NoticeKind.ADMIN_ALERT: self._admin_alert,
            NoticeKind.STAFF_COPY: self._copy,
            NoticeKind.CITIZEN_COPY: self._copy,
        }
        # a broadcast by its template (those desk/ queues); any other is an escalation
        self.broadcasts: dict[str, KindSender] = {
            "draft_opened": self._draft_admin,
            "draft_progress": self._draft_admin,
            "digest": self._digest,
            "escalation": self._escalation,
        }

    async def __call__(self, item: Pending, /) -> Sent:
        """Send one row; returns (message id, link role) for the thread map."""
        bot = self.bots[item.platform]
        if item.kind is NoticeKind.CARD_REFRESH:
            # before the request is read: the state read next covers every refresh queued
            await self.outbox.supersede_refreshes(item, self.wall.now())
        request = await self._request(item.code)
        if item.code is not None and request is None:
            raise Permanent(f"request {item.code} does not exist")
        send = self.by_kind.get(item.kind)
        if send is None:
            raise Permanent(f"unknown notice kind {item.kind}")
        return await send(bot, item, request)

    async def _request(self, code: str | None) -> Request | None:
        if code is None:
            return None
        async with self.uow() as tx:
            return await tx.requests.get(code)

    # --- staff chats -----------------------------------------------------------------------

    def _card_markup(self, request: Request, chat: ChatRef) -> InlineKeyboardMarkup | None:
        if request.kind.value in ("survey", "comment") or not request.is_open:
            return None
        if not render.card_is_live(request, self.rules, chat):
            return None
        unit = self.rules.units.get(request.unit or "")
        return keyboards.card_actions(
            request.code, claimed=request.claimed_by is not None,
            reachable=request.chat is not None, templates=bool(unit and unit.templates),
        )  # fmt: skip

    async def _commented_draft(self, request: Request) -> Draft | None:
        """The draft a comment is about (its card names it), None for other requests."""
        if request.draft_id is None:
            return None
        async with self.uow() as tx:
            return await tx.drafts.get(request.draft_id)

    async def _staff_card(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        assert request is not None
        chat = ChatRef(item.platform, item.chat_id)
        draft = await self._commented_draft(request)
        text = render.staff_card(
            bot.ui, request, self.rules, chat, self.clock.now(), item.data, draft=draft
        )
        sent = await bot.send_message(
            item.chat_id, text, reply_markup=self._card_markup(request, chat)
        )
        return sent.message_id, "card"

    async def _card_refresh(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        assert request is not None
        chat = ChatRef(item.platform, item.chat_id)
        card_id = await self.links.card(item.platform, item.chat_id, request.code)
        draft = await self._commented_draft(request)
        text = render.staff_card(bot.ui, request, self.rules, chat, self.clock.now(), draft=draft)
        if card_id is None:
            # no card to edit: its send was parked, or the platform's answer to it named no
            # message id. Staff must still see the truth: a new card.
            log.warning("outbox %d: no card of request %s in %s:%s to edit; sending it anew",
                        item.id, request.code, item.platform.value, item.chat_id)  # fmt: skip
            sent = await bot.send_message(
                item.chat_id, text, reply_markup=self._card_markup(request, chat)
            )
            return sent.message_id, "card"
        # "not modified" is classified as done; any `ok: true` answer (a Message, true, Bale's
        # stub) is a success (`bot/runtime/boundary.py`): the edit's answer is not used
        await bot.edit_message_text(
            text=text, chat_id=item.chat_id, message_id=card_id,
            reply_markup=self._card_markup(request, chat),
        )  # fmt: skip
        return None, None

    async def _thread_text(self, bot: PlatformBot, item: Pending, text: str) -> Message:
        card = await reply_to(self.links, item)
        return await bot.send_message(item.chat_id, text, **reply_kwargs(card))

    async def _staff_note(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        text = render.staff_note(bot.ui, request, self.rules, item.data)
        return (await self._thread_text(bot, item, text)).message_id, "note"

    async def _copy(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        copy = await self.copies.send(bot, item)
        copied = "attachment" if item.kind is NoticeKind.STAFF_COPY else None
        return (copy.message_id if copy else None), copied

    # --- admin chats and broadcasts --------------------------------------------------------

    async def _broadcast(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        send = self.broadcasts.get(str(item.data.get("template", "")), self._escalation)
        return await send(bot, item, request)

    async def _draft_admin(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        draft = await self._draft(item)
        sent = await bot.send_message(item.chat_id, render.draft_admin(bot.ui, draft, item.data))
        return sent.message_id, None

    async def _digest(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        units = item.data.get("units") or {}
        assert isinstance(units, dict)
        text = render.digest(bot.ui, self.rules, units, self.clock.now())
        sent = await bot.send_message(item.chat_id, text)
        return sent.message_id, ("note" if request else None)

    async def _escalation(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        assert request is not None
        sent = await bot.send_message(item.chat_id, render.escalation(bot.ui, request, self.rules))
        return sent.message_id, "note"

    async def _admin_alert(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        text = render.admin_alert(bot.ui, self.rules, item.data)
        return (await bot.send_message(item.chat_id, text)).message_id, None

    # --- citizens --------------------------------------------------------------------------

    async def _citizen_text(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        assert request is not None
        text = render.citizen_notice(bot.ui, request, self.rules, item.data)
        reply = _CITIZEN_REPLIES.get(str(item.data.get("template")))
        role, markup = ("notice", None) if reply is None else (reply[0], reply[1](request.code))
        sent = await bot.send_message(item.chat_id, text, reply_markup=markup)
        return sent.message_id, role

    # --- drafts ----------------------------------------------------------------------------

    async def _draft(self, item: Pending) -> Draft:
        draft_id = int(str(item.data["draft"]))
        async with self.uow() as tx:
            draft = await tx.drafts.get(draft_id)
        if draft is None:
            raise Permanent(f"draft {draft_id} does not exist")
        return draft

    async def _to_subscriber(
        self, bot: PlatformBot, item: Pending, text: str, draft: Draft
    ) -> Sent:
        assert draft.id is not None
        sent = await bot.send_message(
            item.chat_id, text, reply_markup=keyboards.draft_actions(draft.id)
        )
        return sent.message_id, None

    async def _draft_announce(
        self, bot: PlatformBot, item: Pending, request: Request | None
    ) -> Sent:
        draft = await self._draft(item)
        if not draft.is_open_at(self.clock.now()):
            return None, None  # closed before this citizen's turn came: nothing to say
        text = render.draft_card(bot.ui, draft, self.rules, announce=True)
        return await self._to_subscriber(bot, item, text, draft)

    async def _draft_reminder(
        self, bot: PlatformBot, item: Pending, request: Request | None
    ) -> Sent:
        draft = await self._draft(item)
        if not draft.is_open_at(self.clock.now()):
            return None, None  # closed before this citizen's turn came: nothing to say
        return await self._to_subscriber(bot, item, render.draft_reminder(bot.ui, draft), draft)

    async def _draft_digest(self, bot: PlatformBot, item: Pending, request: Request | None) -> Sent:
        draft = await self._draft(item)
        assert draft.id is not None
        async with self.uow() as tx:
            comments = await tx.drafts.comments(draft.id)
        workbook = comments_workbook(draft, comments)
        text = render.draft_digest(bot.ui, draft, comments)
        # a caption takes 1,024 characters; cutting rendered text could end inside an escaped
        # title, which the platform refuses: a longer digest goes as its own message
        caption = text if len(text) <= 1024 else None
        sent = await bot.send_document(
            item.chat_id,
            BufferedInputFile(workbook, filename=f"comments-{draft.id}.xlsx"),
            caption=caption,
        )
        await self.links.link(item.platform, item.chat_id, sent.message_id,
                              f"d{draft.id}", "digest", self.wall.now())  # fmt: skip
        if caption is None:
            note = await bot.send_message(item.chat_id, text)
            await self.links.link(item.platform, item.chat_id, note.message_id,
                                  f"d{draft.id}", "digest", self.wall.now())  # fmt: skip
        return sent.message_id, None

    async def _draft_outcome(
        self, bot: PlatformBot, item: Pending, request: Request | None
    ) -> Sent:
        """The outcome, to one commenter: the note, their comment's code, the final file."""
        draft = await self._draft(item)
        assert draft.id is not None and request is not None
        text = render.draft_outcome(bot.ui, draft, request.code)
        final = await self.files.document(bot, draft.id, "final")
        if final is None or len(text) > 1024:
            sent = await bot.send_message(item.chat_id, text)
            if final is not None:
                await self.files.remember(bot, draft.id, "final", final,
                                          await bot.send_document(item.chat_id, final))  # fmt: skip
            return sent.message_id, None
        sent = await bot.send_document(item.chat_id, final, caption=text)
        await self.files.remember(bot, draft.id, "final", final, sent)
        return sent.message_id, None
