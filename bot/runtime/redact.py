"""A logging filter that keeps secrets and citizens' personal data out of every log line.

Masked, in the message and in the traceback of every record:

* bot tokens (`123456:ABC…`) → `<token>`;
* the secret of a webhook path (`/webhook/telegram/<secret>`: an aiohttp error line that names
  the request, a URL in a traceback) → `<secret>`;
* SQL statement parameters (`[parameters: (...)]`, as SQLAlchemy writes them in an exception's
  text) → `[parameters: <hidden>]`; engines are also built with `hide_parameters=True`;
* Iranian mobiles (`9xx xxx xxxx` with an optional `0`, `+98`, `98` or `0098` in front) and
  landlines with their area code (`0` + 2-3 digits + 8 digits, `+98` in place of the `0`), in
  ASCII, Persian (۰-۹) or Arabic-Indic (٠-٩) digits, mixed, with spaces, dashes, dots or
  parentheses between the digit groups → `<phone>`;
* national codes: ten digits standing alone (or written 3-6-1 with dashes or spaces) that
  pass the national-code checksum → `<national-code>`.

Chat ids stay readable where a line names them as a chat's (`chat 5100000015`, `chat_id=…`,
`bale:5100000015`): a Bale group's ten-digit id may pass the national-code checksum, and was
masked, so the operator could not tell which unit's group a warning was about.

Tracking codes stay readable, so an operator finds a citizen's code in the logs. A code is ten
digits too: `desk.tracking.generate` no longer draws one that starts with 9 (a mobile without
its 0) or passes the national-code checksum, but codes filed before that change may, and ten
bare digits alone cannot tell a code from a mobile written `9151234567`. So a code is kept
where a line names it as one: ten digits in one run, right after `request`, `request code`,
`request_code` or `tracking code` (any case; `=`, `:`, `#`, a quote or spaces between), whose
Damm check digit holds (`desk.tracking.is_valid`). The bot's own lines name every code so
(`filed complaint request 9123456784 to unit …`). A phone or national code written right
after such a label is masked as usual unless it also passes the Damm check (one in ten
would); a bare `code=` is no label (`national_code=`, `code='…'` of a national code stay
masked). Anywhere else ten digits starting with 9 are a mobile, as before.
"""

from __future__ import annotations

import logging
import re

from desk import tracking
from desk.validation import passes_national_checksum

_D = "[0-9\u06f0-\u06f9\u0660-\u0669]"  # ASCII, Persian and Arabic-Indic digits
_SEP = r"[ \u00a0\u200c.\-()]{0,3}"  # what people put between digit groups
_ZERO, _EIGHT, _NINE = "[0\u06f0\u0660]", "[8\u06f8\u0668]", "[9\u06f9\u0669]"
_INTL = rf"(?:(?:\+|{_ZERO}{_ZERO}){_SEP})?{_NINE}{_EIGHT}"  # +98, 0098, 98
_PREFIX = rf"(?:{_INTL}{_SEP}{_ZERO}?{_SEP}|{_ZERO}{_SEP})"  # +98 (0) 9…, 0098-9…, 0 9…


def _digits(count: int) -> str:
    """`count` digits with separators allowed between any two of them."""
    return rf"{_D}(?:{_SEP}{_D}){{{count - 1}}}"


_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{10,}")
_WEBHOOK_PATH = re.compile(r"(/webhook/[A-Za-z]+/)[A-Za-z0-9_-]+")
_SQL_PARAMETERS = re.compile(r"\[(?:SQL )?parameters[^\n]*")
# (the start may not follow a digit: no tail of a longer number is taken for a phone)
_MOBILE = re.compile(rf"(?<!{_D})\(?{_PREFIX}?{_NINE}{_SEP}{_digits(9)}(?!{_D})")
_LANDLINE = re.compile(
    rf"(?<!{_D})\(?{_PREFIX}[1-8\u06f1-\u06f8\u0661-\u0668]{_D}{{1,2}}{_SEP}{_digits(8)}(?!{_D})"
)
_NATIONAL_CODE = re.compile(rf"(?<!{_D})(?:{_D}{{10}}|{_D}{{3}}[ \-]{_D}{{6}}[ \-]{_D})(?!{_D})")
_TO_ASCII = str.maketrans("\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
                          "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
                          "01234567890123456789")  # fmt: skip
# a tracking code where a line names one as a request's (see the module's docstring)
_CODE_IN_CONTEXT = re.compile(
    rf"(?<![\w-])(?P<label>request[ _]code|tracking[ _]code|request)"
    rf"(?P<gap>[ \t]{{0,3}}[:=#]?[ \t]{{0,3}}['\"«]?)(?P<code>{_D}{{10}})(?!{_D})",
    re.IGNORECASE,
)
# a chat's id where a line names one as a chat's (aiogram's "… in chat 5100000015", our
# "bale:5100000015"): a Bale group's id may pass the national-code checksum, and an operator
# must find the group a line is about
_CHAT_IN_CONTEXT = re.compile(
    rf"(?<![\w-])(?P<label>chat[ _]id|chat|(?:telegram|bale):)"
    rf"(?P<gap>[ \t]{{0,3}}[:=]?[ \t]{{0,3}}['\"]?)(?P<code>-?{_D}{{5,15}})(?!{_D})",
    re.IGNORECASE,
)
_KEPT = re.compile("\x00([\ue000-\uf8ff])\x00")  # where a kept code waits for the masks to pass
_ANY_DIGITS = re.compile(rf"{_D}{{5}}|{_D}[ \-.()]")


def is_national_code(text: str) -> bool:
    """True when `text` holds ten digits (any script, separators ignored) that pass the
    Iranian national-code checksum (and are not one digit ten times)."""
    code = "".join(ch for ch in text.translate(_TO_ASCII) if ch.isascii() and ch.isdigit())
    return passes_national_checksum(code)


_MAX_KEPT = 0xF8FF - 0xE000  # codes kept per record (a private-use character marks each)


def _national_code(match: re.Match[str]) -> str:
    return "<national-code>" if is_national_code(match.group()) else match.group()


def redact(text: str) -> str:
    """`text` with tokens, SQL parameters, phone numbers and national codes masked."""
    text = _TOKEN.sub("<token>", text)
    text = _WEBHOOK_PATH.sub(r"\1<secret>", text)
    text = _SQL_PARAMETERS.sub("[parameters: <hidden>]", text)
    if not _ANY_DIGITS.search(text):
        return text
    kept: list[str] = []

    def keep(match: re.Match[str], *, checked: bool = True) -> str:
        code = match["code"]
        if len(kept) > _MAX_KEPT or (checked and not tracking.is_valid(code.translate(_TO_ASCII))):
            return match.group()
        kept.append(code)
        return f"{match['label']}{match['gap']}\x00{chr(0xE000 + len(kept) - 1)}\x00"

    text = _CODE_IN_CONTEXT.sub(keep, text)
    text = _CHAT_IN_CONTEXT.sub(lambda m: keep(m, checked=False), text)
    text = _MOBILE.sub("<phone>", text)
    text = _LANDLINE.sub("<phone>", text)
    text = _NATIONAL_CODE.sub(_national_code, text)
    if kept:
        text = _KEPT.sub(lambda m: kept[ord(m[1]) - 0xE000], text)
    return text


class RedactSecrets(logging.Filter):
    """Tokens, SQL parameters, phone numbers and national codes never reach the logs, whoever
    logs them (aiohttp URLs, SQLAlchemy errors and tracebacks included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the formatted message, traceback included, with secrets masked."""
        message = record.getMessage()
        if record.exc_info or record.exc_text or record.stack_info:
            # a traceback's text (an aiohttp error names the URL, token included) is masked too
            extra = record.exc_text or (
                logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
            )
            message = "\n".join(p for p in (message, extra, record.stack_info or "") if p)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.msg, record.args = redact(message), None
        return True
