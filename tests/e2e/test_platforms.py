"""What differs between Telegram and Bale: repaired updates, skipped calls, rendering."""

from __future__ import annotations

import pytest

from bot.ui import texts
from tests.e2e.conftest import wait_until
from tests.e2e.helpers import said


async def test_unparseable_update_does_not_stall_polling(front) -> None:
    citizen = front.bale.private_chat(9001, "کاربر")
    # A message without a chat nor an id: aiogram cannot parse it even after repair.
    assert await citizen.send_raw({"message": {"text": "؟", "date": 0}}) == []
    assert "میز خدمت" in said(await citizen.send("/start")), "polling carried on"


async def test_bale_updates_missing_fields_are_handled(front) -> None:
    citizen = front.bale.private_chat(9002, "کاربر")
    await citizen.send("/start")
    await citizen.click(texts.BTN_HEAD)
    await citizen.send("کاربر آزمایشی")
    await citizen.send("09151234567")
    await citizen.send("پیام آزمایشی برای بررسی پیوست صوتی در بله.")
    # Bale's voice has no duration, its sticker no type flags, its callbacks no chat_instance
    assert "پیوست ۱" in said(await citizen.send_voice())
    assert texts.ERR_ATTACHMENT_KIND in said(await citizen.send_sticker())
    await citizen.send("/start")
    assert texts.CANCELLED in said(await citizen.click(texts.BTN_ABANDON))
    assert front.bale.callback_answers, "every callback is answered so the button stops spinning"


async def test_telegram_gets_commands_bale_gets_no_undocumented_calls(front) -> None:
    # in the background: a start is never held up by them
    await wait_until(
        lambda: {"all_private_chats", "all_group_chats"} <= set(front.telegram.scoped_commands),
        what="both menus set",
    )
    menus = {
        scope: [(c["command"], c["description"]) for c in commands]
        for scope, commands in front.telegram.scoped_commands.items()
    }
    # citizens see their commands in private chats; staff and admins /help in their groups
    assert menus["all_private_chats"] == list(texts.COMMANDS_PRIVATE)
    assert [c for c, _ in menus["all_private_chats"]] == ["start", "cancel", "forget"]
    assert [c for c, _ in menus["all_group_chats"]] == ["help", "templates", "find"]
    assert not front.bale.calls_of("setMyCommands")
    # Balethon deletes a webhook before polling Bale too: a token that ever had one would
    # otherwise get no updates
    await wait_until(lambda: front.bale.calls_of("deleteWebhook"), what="Bale webhook deleted")
    for method, params in front.bale.calls:
        assert "parse_mode" not in params, f"{method} sent parse_mode to Bale"


async def test_receipt_formatting_per_platform(front) -> None:
    for fake in (front.telegram, front.bale):
        citizen = fake.private_chat(9100, "کاربر")
        await citizen.send("/start")
        await citizen.click(texts.BTN_SUGGESTION)
        await citizen.click("سایر موارد")
        await citizen.send("پیشنهاد می‌کنم نوبت‌دهی اینترنتی راه‌اندازی شود.")
        await citizen.click(texts.BTN_ANONYMOUS)
        receipt = (await citizen.click(texts.BTN_CONFIRM))[-1]
        if fake is front.telegram:
            assert receipt.params.get("parse_mode") == "HTML"
            assert "<code>" in (receipt.text or ""), "the code is tap-to-copy on Telegram"
        else:
            assert "parse_mode" not in receipt.params
            assert "<" not in (receipt.text or "")


@pytest.mark.slow
async def test_api_errors_never_end_polling_and_replies_are_retried(front) -> None:
    front.api.fail("getUpdates", "500", times=2)
    front.api.fail("getUpdates", "drop", times=1)
    citizen = front.telegram.private_chat(9200, "کاربر")
    assert "میز خدمت" in said(await citizen.send("/start", timeout=20)), "polling carried on"
    # The reply itself fails with 429, 5xx, a dropped connection and Bale's limit words.
    front.api.fail("sendMessage", "429", retry_after=1)
    front.api.fail("sendMessage", "500")
    front.api.fail("sendMessage", "drop")
    assert texts.ASK_CODE in said(await citizen.click(texts.BTN_TRACK, timeout=20))
    bale_citizen = front.bale.private_chat(9201, "کاربر")
    front.api.fail("sendMessage", "bale_limit", token=front.bale.token)
    assert "میز خدمت" in said(await bale_citizen.send("/start", timeout=20))
