"""«تماس با ما» end to end, on Telegram and on Bale: the office, units, search, contact cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.handlers.directory import MAX_RESULTS
from bot.ui import texts
from desk.model import Platform
from tests.e2e.conftest import ROOT, Front
from tests.e2e.helpers import said
from tests.fakebotapi import SentMessage

GARDENS = "مدیریت باغبانی"
GARDENER = "مهندس ابوالفضل شریفی"


def card_button(name: str) -> str:
    return texts.BTN_SEND_CARD_OF.format(button=texts.BTN_SEND_CARD, name=name)


def cards(replies: list[SentMessage]) -> list[SentMessage]:
    return [m for m in replies if m.method == "sendContact"]


async def open_directory(citizen: Any) -> list[SentMessage]:
    await citizen.send("/start")
    replies: list[SentMessage] = await citizen.click(texts.BTN_CONTACT)
    return replies


async def test_contact_us_shows_the_office_and_the_units(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8101, "مریم")
    replies = await open_directory(citizen)
    assert len(replies) == 1
    office = replies[0]
    text = office.current_text() or ""
    assert "بیرجند" in text and "۰۵۶-۳۲۲۳۱۵۰۰" in text, "switchboard in Persian digits"
    assert "شنبه تا چهارشنبه" in text and "۷:۳۰" in text and "۱۴:۳۰" in text
    assert "info@jkj-skh.ir" in text and "۹۷۱۷۸۵۷۱۱۳" in text
    assert ("<b>" in text) is (platform is Platform.TELEGRAM), "bold on Telegram, plain on Bale"
    buttons = office.buttons()
    assert buttons[:2] == [texts.BTN_DIRECTORY_SEARCH, texts.BTN_SWITCHBOARD_CARD]
    for unit in ("دفتر ریاست سازمان", GARDENS, "صندوق بیمه محصولات کشاورزی"):
        assert unit in buttons
    assert "مدیریت امور دام" in buttons and "مدیریت جهاد کشاورزی شهرستان بیرجند" in buttons
    # the main menu keyboard is still there
    assert texts.BTN_COMPLAINT in citizen.keyboard()


async def test_unit_lists_its_officials_and_sends_a_card(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8102, "علی")
    await open_directory(citizen)
    listing = said(await citizen.click(GARDENS))
    assert "مدیر باغبانی" in listing and GARDENER in listing
    assert "۰۵۶-۳۲۲۳۱۵۸۰" in listing and "baghbani@jkj-skh.ir" in listing
    assert texts.BTN_SEND_CARD in listing

    sent = cards(await citizen.click(card_button(GARDENER)))
    assert len(sent) == 1
    params = sent[0].params
    assert params["phone_number"] == "+985632231580"
    assert params["first_name"] == GARDENER and params["last_name"] == "مدیر باغبانی"
    if platform is Platform.TELEGRAM:
        assert "TEL;TYPE=WORK,VOICE:+985632231580" in params["vcard"]
        assert "EMAIL;TYPE=INTERNET:baghbani@jkj-skh.ir" in params["vcard"]
    else:
        assert "vcard" not in params, "Bale does not document vcard"


async def test_unit_with_several_officials_and_a_mobile(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8103, "رضا")
    await open_directory(citizen)
    replies = await citizen.click("صندوق بیمه محصولات کشاورزی")
    listing = said(replies)
    assert "همراه: \u200e۰۹۱۵-۵۶۱-۲۰۵۱\u200e" in listing
    assert len([b for b in replies[0].buttons() if b.startswith(texts.BTN_SEND_CARD)]) == 2
    sent = cards(await citizen.click(card_button("علی اکبری")))
    assert sent[0].params["phone_number"] == "+985632231631"
    if platform is Platform.TELEGRAM:
        assert "TEL;TYPE=CELL:+989155612051" in sent[0].params["vcard"]


async def test_switchboard_card(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8104, "زهرا")
    await open_directory(citizen)
    sent = cards(await citizen.click(texts.BTN_SWITCHBOARD_CARD))
    assert sent[0].params["phone_number"] == "+985632231500"
    assert sent[0].params["first_name"] == texts.ORGANISATION


async def test_search_with_arabic_letters_then_a_card(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8105, "حسن")
    await open_directory(citizen)
    question = said(await citizen.click(texts.BTN_DIRECTORY_SEARCH))
    assert "نام، سمت یا واحد" in question
    assert citizen.keyboard() == [texts.BTN_BACK]

    # not a word: a polite reason and the question again, the search goes on
    again = said(await citizen.send_sticker())
    assert texts.ERR_TEXT_WANTED in again and "نام، سمت یا واحد" in again
    assert texts.DIRECTORY_TOO_SHORT in said(await citizen.send("ب"))
    assert texts.DIRECTORY_TOO_SHORT in said(await citizen.send("😀 !!"))
    nothing = said(await citizen.send("هواپیما"))
    assert "چیزی پیدا نشد" in nothing and "هواپیما" in nothing and "نام، سمت یا واحد" in nothing
    assert citizen.keyboard() == [texts.BTN_BACK]

    # Arabic yeh and kaf, no ZWNJ: still found
    replies = await citizen.send("مدير باغباني")
    assert len(replies) == 2
    assert "۱" in (replies[0].current_text() or ""), "the count, in Persian digits"
    assert citizen.keyboard() == [texts.BTN_BACK], "the search stays open until «بازگشت»"
    assert GARDENER in (replies[1].current_text() or "") and GARDENS in said(replies)
    assert replies[1].buttons() == [card_button(GARDENER), texts.BTN_SEARCH_AGAIN]
    sent = cards(await citizen.click(card_button(GARDENER)))
    assert sent[0].params["phone_number"] == "+985632231580"

    # out of the search with «بازگشت»: a menu button works as usual again
    assert texts.DIRECTORY_SEARCH_ENDED in said(await citizen.click(texts.BTN_BACK))
    assert texts.BTN_COMPLAINT in citizen.keyboard(), "the main menu is back"
    assert "کد رهگیری" in said(await citizen.click(texts.BTN_TRACK))


async def test_search_again_zwnj_digits_and_too_many(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8106, "فاطمه")
    await open_directory(citizen)
    await citizen.click(texts.BTN_DIRECTORY_SEARCH)
    found = said(await citizen.send("عربزاده"))  # the file has «عرب‌زاده» with ZWNJ
    assert "معاون توسعه مدیریت و منابع" in found
    await citizen.click(texts.BTN_SEARCH_AGAIN)
    assert "رئیس سازمان" in said(await citizen.send("۱۵۰۱"))  # a direct line's digits
    await citizen.click(texts.BTN_SEARCH_AGAIN)
    replies = await citizen.send("مدیر")
    assert "۱۰ مورد نخست" in said(replies)
    cards_shown = [b for b in replies[-1].buttons() if b.startswith(texts.BTN_SEND_CARD)]
    assert len(cards_shown) == MAX_RESULTS


async def test_cancel_and_menu_buttons_leave_the_search(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8107, "احمد")
    await open_directory(citizen)
    await citizen.click(texts.BTN_DIRECTORY_SEARCH)
    # «انصراف» typed (or on an old keyboard) ends the search too: nothing was being filed
    ended = said(await citizen.send(texts.BTN_CANCEL))
    assert texts.DIRECTORY_SEARCH_ENDED in ended and texts.CANCELLED not in ended
    assert texts.BTN_CONTACT in citizen.keyboard()
    await citizen.click(texts.BTN_CONTACT)
    await citizen.click(texts.BTN_DIRECTORY_SEARCH)
    # a menu label typed (or pressed on an old keyboard) is not searched for: back to the menu
    assert texts.MENU_AGAIN in said(await citizen.send(texts.BTN_MINE))
    assert texts.BTN_MINE in citizen.keyboard()
    assert texts.MENU_AGAIN not in said(await citizen.click(texts.BTN_MINE))
    # the conversations start from any state, the search included
    await citizen.click(texts.BTN_CONTACT)
    await citizen.click(texts.BTN_DIRECTORY_SEARCH)
    assert texts.ASK_TOPIC in said(await citizen.send(texts.BTN_COMPLAINT))


async def test_directory_buttons_during_a_complaint_keep_the_draft(
    front, platform: Platform
) -> None:
    citizen = front.bot(platform).private_chat(8108, "مهدی")
    office = (await open_directory(citizen))[0]
    await citizen.click(texts.BTN_COMPLAINT)
    await citizen.click("آب و آبیاری")
    # an old «جستجو» button: the draft is not thrown away, the current step is asked again
    busy = said(await citizen.click(texts.BTN_DIRECTORY_SEARCH, message=office))
    assert texts.DIRECTORY_BUSY in busy and texts.ASK_COUNTY in busy
    # a unit and a card are only information: fine mid-way
    assert GARDENER in said(await citizen.click(GARDENS, message=office))
    assert cards(await citizen.click(card_button(GARDENER)))
    assert texts.ASK_NAME in said(await citizen.click("فردوس")), "the complaint goes on"


async def test_stale_or_forged_buttons_change_nothing(front, platform: Platform) -> None:
    citizen = front.bot(platform).private_chat(8109, "کاربر")
    office = (await open_directory(citizen))[0]
    for data in ("dy:c:999", "dy:c:-1", "dy:c:x", "dy:u:nowhere", "dy:u:"):
        replies = await citizen.click_data(data, office)
        assert said(replies) == texts.STALE_BUTTON and not cards(replies)


async def test_text_from_the_file_is_escaped_per_platform(api, tmp_path: Path) -> None:
    """Names with < & * _ reach Telegram escaped in HTML and Bale without markup."""
    text = (ROOT / "directory.yaml").read_text(encoding="utf-8")
    odd = text.replace("مهندس ابوالفضل شریفی", "ابوالفضل <شریفی> & *پسر_ک*", 1)
    path = tmp_path / "directory.yaml"
    path.write_text(odd, encoding="utf-8")
    front = Front(api, f"sqlite+aiosqlite:///{tmp_path / 'front.db'}", directory_file=path)
    await front.start()
    try:
        for platform in (Platform.TELEGRAM, Platform.BALE):
            citizen = front.bot(platform).private_chat(8110, "کاربر")
            await open_directory(citizen)
            listing = said(await citizen.click(GARDENS))
            if platform is Platform.TELEGRAM:
                assert "ابوالفضل &lt;شریفی&gt; &amp; *پسر_ک*" in listing
            else:
                assert "<" not in listing and "*" not in listing and "_" not in listing
                assert "ابوالفضل ‹شریفی› &" in listing
    finally:
        await front.stop()
    for fake in (front.telegram, front.bale):
        assert not fake.violations, fake.violations


async def check(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    """`python -m bot check` as an operator runs it, from another folder (its `main`,
    in-process)."""
    from tests.e2e.helpers import run_main
    from tests.e2e.test_process import bot_env

    return await run_main(["check"], cwd=tmp_path, env=bot_env(tmp_path, **env))


async def test_check_validates_the_directory(tmp_path: Path) -> None:
    # unset, DIRECTORY_FILE is the directory.yaml beside ROUTING_RULES (the shipped pair)
    code, out, err = await check(tmp_path)
    assert (code, err) == (0, "") and "contact directory" in out
    text = (ROOT / "directory.yaml").read_text(encoding="utf-8")
    broken = text.replace("email: shilat@jkj-skh.ir", "email: shilat-at-jkj-skh.ir", 1)
    line = broken.splitlines().index("    email: shilat-at-jkj-skh.ir") + 1
    (tmp_path / "directory.yaml").write_text(broken, encoding="utf-8")
    code, out, err = await check(tmp_path, DIRECTORY_FILE=str(tmp_path / "directory.yaml"))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.strip().count("\n") == 0, err
    assert f"directory.yaml, line {line}:" in err and "shilat-at-jkj-skh.ir" in err
