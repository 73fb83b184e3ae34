"""A command inside a Persian sentence keeps its slash in front.

In right-to-left text the slash of «… معوق: /overdue» sits between a Persian letter and a Latin
one, so the bidi algorithm (UAX #9, rules N1–N2) gives it the paragraph's direction and the
apps show «overdue/». A LEFT-TO-RIGHT MARK before the slash makes it part of the command's run.
A command that begins its line («• /find …») needs none.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from bot.ui import texts

_COMMAND = re.compile(r"/[a-z_]+")
_PERSIAN = re.compile("[\u0600-\u06ff]")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)


def _unmarked(text: str) -> list[str]:
    found = []
    for line in text.split("\n"):
        for match in _COMMAND.finditer(line):
            before = line[: match.start()]
            if _PERSIAN.search(before) and not before.endswith("\u200e"):
                found.append(line)
    return found


def test_every_command_after_persian_words_is_marked() -> None:
    unmarked = {
        name: lines
        for name, value in vars(texts).items()
        if name.isupper()
        for lines in [[line for s in _strings(value) for line in _unmarked(s)]]
        if lines
    }
    assert unmarked == {}


# what the handlers put into {command} and {example}: a command, alone or with its arguments
# (bot/handlers/staff.py, grants.py, admin.py)
_FILLED_WITH_COMMANDS = {"command": "/find", "example": "/close_draft ۳"}


def _filled(template: str) -> str:
    """`template` as the bot sends it: commands in {command} and {example}, a Persian word in
    every other field."""
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{name: _FILLED_WITH_COMMANDS.get(name, "متن") for name in fields})


def test_every_command_filled_in_after_persian_words_is_marked() -> None:
    """A command the handler fills in is as much a command after Persian words as one written
    in the text: the mark goes before the placeholder."""
    filled = {
        name: lines
        for name, value in vars(texts).items()
        if name.isupper()
        for lines in [
            [
                line
                for s in _strings(value)
                if any(f"{{{field}}}" in s for field in _FILLED_WITH_COMMANDS)
                for line in _unmarked(_filled(s))
            ]
        ]
        if lines
    }
    assert filled == {}


def test_the_filled_check_sees_an_unmarked_placeholder() -> None:
    assert _unmarked(_filled("پس از {command} کد رهگیری را بنویسید؛ مثلاً {example}"))
    assert not _unmarked(
        _filled("پس از \u200e{command} کد رهگیری را بنویسید؛ مثلاً \u200e{example}")
    )
    assert not _unmarked(_filled("{command} را بفرستید، {who}"))


def test_the_check_sees_an_unmarked_command() -> None:
    assert _unmarked("فهرست همه درخواست‌های معوق: /overdue")
    assert not _unmarked("فهرست همه درخواست‌های معوق: \u200e/overdue")
    assert not _unmarked("• /find و پس از آن کد رهگیری")
