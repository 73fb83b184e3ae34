"""The sandbox page shows Telegram HTML safely: b/i/code kept, everything else is text."""

from __future__ import annotations

from bot.sandbox.web import fake_phone, plain_html, telegram_html


def test_only_bold_italic_code_survive() -> None:
    text = '<b>شکایت</b> <a href="x">لینک</a> <i>کج</i> <code>۱۲۳</code> &lt;script&gt;'
    out = telegram_html(text)
    assert out == "<b>شکایت</b> لینک <i>کج</i> <code>۱۲۳</code> &lt;script&gt;"


def test_attributes_and_scripts_never_pass() -> None:
    out = telegram_html('<b onclick="x()">a</b><script>alert(1)</script><img src=x onerror=y>')
    assert out == "<b>a</b>alert(1)"


def test_bale_text_is_escaped_whole() -> None:
    assert plain_html("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_fake_phone_is_an_iranian_mobile() -> None:
    assert fake_phone(1001) == "989150001001"
