"""The words of bot/ui/texts.py against shared/GLOSSARY.md (issue 14, item 5): no word a farmer
stumbles on, sentences about a citizen's own request that agree for every kind, one rating
scale, and no Persian sentence outside texts.py."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.runtime.platforms import Renderer
from bot.ui import texts
from bot.ui.render import citizen_notice, receipt
from desk.model import ChatRef, Contact, Draft, Kind, Platform, Request, Status
from desk.routing import load_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "routing_rules.yaml")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

# GLOSSARY, «Words a farmer stumbles on»: what no text may say
JARGON = (
    "نویسه",  # characters: «حرف», or words
    "رد کردن",  # skip, reads as "reject": name what is skipped
    "Reply",  # «روی همین پیام بزنید و «پاسخ» را انتخاب کنید»
    "میانه",  # median: «زمان معمول»
    "محل موضوع",  # «این مشکل در کدام شهرستان است؟»
    "·",  # between figures it looks like the Persian zero
)
# GLOSSARY, «Sentences that must agree»: «شما» after the whole noun phrase, not inside it
GLUED = (
    "پیام به رئیس سازمان شما",
    "درباره پیش‌نویس شما",
    "درخواست شکایت",
    "پیشنهاد و انتقاد شما",
    "{kind} شما",
    "درخواست {kind}",
    "پاسخ {kind}",
)
# old keyboards' labels, still accepted from a conversation begun before an upgrade, never shown
ACCEPTED_ONLY = {"OLD_SKIP_LABELS"}


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _strings(item)


def _texts() -> Iterator[tuple[str, str]]:
    for name, value in vars(texts).items():
        if name.isupper() and name not in ACCEPTED_ONLY:
            for text in _strings(value):
                yield name, text


def test_no_text_says_a_word_a_farmer_stumbles_on() -> None:
    found = [(name, word) for name, text in _texts() for word in JARGON if word in text]
    assert not found, "GLOSSARY.md, «Words a farmer stumbles on»"


def test_no_template_glues_a_kind_into_a_sentence() -> None:
    found = [(name, glued) for name, text in _texts() for glued in GLUED if glued in text]
    assert not found, "GLOSSARY.md, «Sentences that must agree»: say YOUR_KIND"


def test_the_checks_see_the_constants() -> None:
    said = dict(_texts())
    assert said["BTN_NO_NATIONAL_CODE"] == "ادامه بدون کد ملی"
    assert "OLD_SKIP_LABELS" not in said and "رد کردن" in texts.OLD_SKIP_LABELS
    assert len(said) > 300


def test_one_rating_scale_with_the_glossary_words() -> None:
    glossary = ("۱ خیلی بد", "۲ بد", "۳ متوسط", "۴ خوب", "۵ عالی")
    assert texts.LIKERT_LABELS == texts.RATE_LABELS == glossary
    # the survey question names the ends of the scale in the buttons' own words
    for label in (glossary[0], glossary[-1]):
        number, word = label.split(" ", 1)
        assert f"{number} ({word})" in texts.ASK_SURVEY_QUESTION


def _request(kind: Kind) -> Request:
    return Request(
        code="1234567890",
        kind=kind,
        status=Status.ROUTED,
        text="آب چاه قطع است.",
        created_at=NOW,
        updated_at=NOW,
        contact=Contact(name="علی", phone="09151234567"),
        platform=Platform.BALE,
        unit="water_soil",
        chat=ChatRef(Platform.BALE, 5),
        draft_id=3 if kind is Kind.COMMENT else None,
    )


YOURS = {
    Kind.COMPLAINT: "شکایت شما",
    Kind.SUGGESTION: "پیشنهاد یا انتقاد شما",
    Kind.HEAD: "پیام شما به رئیس سازمان",
    Kind.SURVEY: "پاسخ شما به نظرسنجی",
    Kind.COMMENT: "نظر شما درباره پیش‌نویس",
}


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
@pytest.mark.parametrize("platform", list(Platform), ids=lambda p: p.value)
def test_every_sentence_about_a_request_agrees_for_every_kind(
    kind: Kind, platform: Platform
) -> None:
    ui = Renderer(platform)
    yours = YOURS[kind]
    said = [receipt(ui, _request(kind), RULES)]
    said += [
        citizen_notice(ui, _request(kind), RULES, {"template": template, "reason": "duplicate"})
        for template in texts.CITIZEN
        if template != "question"
    ]
    for sentence in said:
        assert sentence.startswith((yours, f"پاسخ {yours} ")), sentence
        assert not any(glued in sentence for glued in GLUED), sentence
        assert texts.KIND_NAMES[kind] + " شما" not in sentence or kind is Kind.COMPLAINT


def test_a_comment_receipt_names_its_draft() -> None:
    draft = Draft(
        id=3,
        title="دستورالعمل توزیع آب",
        summary="بخش یک",
        unit="water_soil",
        opens_at=NOW,
        closes_at=NOW,
    )
    said = receipt(Renderer(Platform.BALE), _request(Kind.COMMENT), RULES, draft)
    assert said.startswith("نظر شما درباره پیش‌نویس «دستورالعمل توزیع آب» در تاریخ")


# --- every Persian sentence in texts.py --------------------------------------------------------

_LETTERS = re.compile(r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]")
# Persian in code that is no sentence the bot says: a pattern that reads what admins type
ALLOWED = {("conversations/publish.py", r"^(\d{1,3})(?:\s*روز)?$")}
CHECKED = [
    path
    for path in sorted(ROOT.joinpath("bot").rglob("*.py"))
    if path.name != "texts.py" and "sandbox" not in path.parts
]


def _persian_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    where = str(path.relative_to(ROOT / "bot")) if path.is_relative_to(ROOT) else path.name
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _LETTERS.search(node.value)
        and (where, node.value) not in ALLOWED
    ]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT / "bot")))
def test_no_persian_sentence_outside_texts(path: Path) -> None:
    assert not _persian_literals(path), "every Persian sentence lives in bot/ui/texts.py"


def test_the_scan_finds_a_persian_literal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""ماژول."""\nMESSAGE = "سلام"\n', encoding="utf-8")
    assert _persian_literals(bad) == ["سلام"]
