"""`bot/ui/callbacks.py`: every button's data packs to the string the bot always sent, unpacks
back to the same object, and a malformed string is refused (so a forged press never reaches a
typed handler)."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.ui import callbacks as cb
from desk.model import CloseReason

SAMPLES: list[tuple[CallbackData, str]] = [
    (cb.CardData(action="claim", code="1234567890"), "sc:claim:1234567890"),
    (cb.CardData(action="transfer", code="1234567890"), "sc:transfer:1234567890"),
    (cb.CardData(action="back", code="0012345678"), "sc:back:0012345678"),
    (cb.TransferData(code="1234567890", unit="legal"), "st:1234567890:legal"),
    (cb.SkipReasonData(code="1234567890"), "sr:1234567890"),
    (cb.CloseData(code="1234567890", reason=CloseReason.SPAM), "sx:1234567890:spam"),
    (cb.CloseData(code="1", reason=CloseReason.OUT_OF_SCOPE), "sx:1:out_of_scope"),
    (
        cb.CloseConfirmData(code="1234567890", reason=CloseReason.DUPLICATE, go=True),
        "sy:1234567890:duplicate:1",
    ),
    (cb.CloseConfirmData(code="1", reason=CloseReason.SPAM, go=False), "sy:1:spam:0"),
    (cb.CardData(action="templates", code="1234567890"), "sc:templates:1234567890"),
    (cb.TemplateData(code="1234567890", index=0), "tp:1234567890:0"),
    (cb.TemplateData(code="1234567890", index=19), "tp:1234567890:19"),
    (
        cb.TemplateSendData(code="1234567890", index=2, text="1a2b3c4d", answer="e3b0c442"),
        "ts:1234567890:2:1a2b3c4d:e3b0c442",
    ),
    (cb.CardAgainData(code="1234567890"), "fc:1234567890"),
    (cb.ClarifyData(code="1234567890"), "cl:1234567890"),
    (cb.RateData(code="1234567890", score=5), "rt:1234567890:5"),
    (cb.ReopenData(code="1234567890"), "ro:1234567890"),
    (cb.DraftReadData(draft=3), "dr:3"),
    (cb.DraftCommentData(draft=3), "dc:3"),
    (cb.DraftSectionData(draft=3, section=0), "dx:3:0"),
    (cb.DraftSectionData(draft=12, section=4), "dx:12:4"),
    (cb.SubscriptionData(on=True), "ds:1"),
    (cb.SubscriptionData(on=False), "ds:0"),
    (cb.PublishUnitData(unit="legal"), "pu:legal"),
    (cb.PublishDaysData(days=14), "pd:14"),
    (cb.PublishConfirmData(answer="yes"), "pc:yes"),
    (cb.PublishConfirmData(answer="no"), "pc:no"),
    (cb.DirectoryMenuData(choice="s"), "dy:s"),
    (cb.DirectoryMenuData(choice="o"), "dy:o"),
    (cb.DirectoryUnitData(kind="u", unit="legal"), "dy:u:legal"),
    (cb.DirectoryCardData(kind="c", index=12), "dy:c:12"),
    (cb.LikertData(question=0, value=5), "lk:0:5"),
    (cb.AbandonData(answer="yes"), "abandon:yes"),
    (cb.AbandonData(answer="no"), "abandon:no"),
    (cb.KeptTextData(flow="c", token="1a2b3c4d"), "kt:c:1a2b3c4d"),
    (cb.KeptTextData(flow="s", token="00ff00ff"), "kt:s:00ff00ff"),
]


def test_every_class_has_a_sample() -> None:
    assert {type(data) for data, _ in SAMPLES} == set(cb.ALL)


def test_the_table_names_every_class() -> None:
    doc = cb.__doc__ or ""
    for cls in cb.ALL:
        assert f"{cls.__prefix__} " in doc and cls.__name__ in doc


@pytest.mark.parametrize(("data", "wire"), SAMPLES, ids=[wire for _, wire in SAMPLES])
def test_packs_to_the_old_string_and_back(data: CallbackData, wire: str) -> None:
    assert data.pack() == wire
    assert type(data).unpack(wire) == data
    assert len(wire.encode()) <= 64


def _taken_by(wire: str) -> list[str]:
    taken = []
    for cls in cb.ALL:
        try:
            cls.unpack(wire)
        except (TypeError, ValueError):
            continue
        taken.append(cls.__name__)
    return taken


@pytest.mark.parametrize(
    "wire",
    [
        "",
        "sc:claim",
        "sc:claim:1:2",
        "st:1234567890",
        "sx:1234567890:bogus",
        "sx:1234567890",
        "sy:1234567890:bogus:1",
        "sy:1234567890:spam",
        "cl:abc",
        "cl:",
        "cl:1:2",
        "rt:1234567890:",
        "rt:1234567890:x",
        "rt:abc:5",
        "ro:12a",
        "dr:abc",
        "dr:",
        "dr:+3",
        "dr: 3",
        "dr:3_0",
        "dr:٣",
        "dc:-1",
        "dx:3",
        "dx:3:0:1",
        "dx:3:x",
        "dx:3:0.0",
        "ds:1:1",
        "pu:a:b",
        "pd:x",
        "pd:",
        "pc:maybe",
        "pc:",
        "dy:x",
        "dy:u",
        "dy:u:a:b",
        "dy:c:x",
        "dy:c:",
        "dy::legal",
        "lk:0",
        "lk:a:5",
        "abandon:a:b",
        "tp:1234567890",
        "tp:1234567890:-1",
        "tp:1234567890:x",
        "tp:12a:0",
        "tp:1234567890:٠",
        "ts:1234567890:0:1",
        "ts:1234567890:0",  # as the button was before it named the text shown: refused
        "ts:1234567890:0:1a2b3c4d",
        "ts:1234567890:0:1A2B3C4D:e3b0c442",
        "ts:1234567890:0:1a2b3c4:e3b0c442",
        "ts:1234567890:0:1a2b3c4d:e3b0c442:0",
        "ts::0:1a2b3c4d:e3b0c442",
        "fc:",
        "fc:abc",
        "fc:1:2",
        "zz:1",
        "sc",
    ],
)
def test_malformed_data_is_refused(wire: str) -> None:
    assert _taken_by(wire) == []


def test_the_directory_prefix_is_shared_without_overlap() -> None:
    assert _taken_by("dy:s") == ["DirectoryMenuData"]
    assert _taken_by("dy:u:legal") == ["DirectoryUnitData"]
    assert _taken_by("dy:c:3") == ["DirectoryCardData"]


def test_reads_as_before() -> None:
    # anything but "1" turned the news off, and a code is any digits, kept as text
    assert cb.SubscriptionData.unpack("ds:x").on is False
    assert cb.SubscriptionData.unpack("ds:").on is False
    assert cb.ClarifyData.unpack("cl:0012").code == "0012"
    assert cb.CardData.unpack("sc:whatever:12").action == "whatever"  # the handler refuses it


def test_pack_refuses_the_separator_and_long_data() -> None:
    with pytest.raises(ValueError, match="Separator"):
        cb.TransferData(code="1", unit="a:b").pack()
    with pytest.raises(ValueError, match="too long"):
        cb.PublishUnitData(unit="x" * 62).pack()


def test_a_digest_is_a_token_of_its_text() -> None:
    assert cb.digest("") == "e3b0c442"  # sha256, its first 8 hex digits
    assert cb.digest("با سلام و احترام.") != cb.digest("با سلام و احترام")
    data = cb.TemplateSendData(code="1", index=0, text=cb.digest("متن"), answer=cb.digest(""))
    assert cb.TemplateSendData.unpack(data.pack()) == data
