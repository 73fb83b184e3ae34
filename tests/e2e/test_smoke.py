"""The front office starts on both platforms and greets a citizen."""

from __future__ import annotations

from bot.ui import texts
from desk.model import Platform


async def test_start_shows_menu_on_both_platforms(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(7001, "مریم")
    replies = await citizen.send("/start")
    assert "میز خدمت" in (replies[0].text or "")
    # a first visit also offers news of draft regulations; a second /start does not
    assert len(replies) == 2 and texts.BTN_SUBSCRIBE in replies[1].buttons()
    assert len(await citizen.send("/start")) == 1
    for label in (
        texts.BTN_COMPLAINT,
        texts.BTN_SUGGESTION,
        texts.BTN_HEAD,
        texts.BTN_SURVEY,
        texts.BTN_TRACK,
        texts.BTN_MINE,
    ):
        assert label in replies[0].buttons()
