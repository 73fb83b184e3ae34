"""One way to format: a value that is not the bot's own text reaches a message only through
the escaping renderer (`ui.fmt`, `ui.esc`, `ui.bold`, `ui.code`), never through `str.format`.

A staff member named `R<D` once got no prompt at all: the prompt was filled with `.format`
into HTML and Telegram refused it. This test reads the handlers and conversations and allows
`.format(...)` only with values that cannot carry markup: the bot's own texts
(`texts.X`), digits (`to_persian_digits(...)`), literals and the shared length bounds. Text
for a destination the platform never parses (a button's label, a press's pop-up notice, a
file name) is filled with `bot.runtime.platforms.plain`, which says so at the call.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = sorted(
    [
        *ROOT.joinpath("bot", "handlers").glob("*.py"),
        *ROOT.joinpath("bot", "conversations").glob("*.py"),
    ]
)
SAFE_CALLS = {"to_persian_digits"}


def _safe(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Subscript):  # texts.STATUS_NAMES[status]
        return _safe(node.value)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "texts"
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return name in SAFE_CALLS
    return False


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "format":
            continue
        for keyword in node.keywords:
            if keyword.arg is None:
                # **mapping: only the shared bounds (digits) may be spread into a template
                if not (isinstance(keyword.value, ast.Attribute) and keyword.value.attr.isupper()):
                    found.append(f"{path.name}:{node.lineno} **{ast.unparse(keyword.value)}")
            elif not _safe(keyword.value):
                found.append(
                    f"{path.name}:{node.lineno} {keyword.arg}={ast.unparse(keyword.value)}"
                )
        found += [f"{path.name}:{node.lineno} {ast.unparse(a)}" for a in node.args if not _safe(a)]
    return found


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.name)
def test_values_reach_messages_only_through_the_escaping_renderer(path: Path) -> None:
    assert not _violations(path), (
        "fill these with ui.fmt (or bot.runtime.platforms.plain for a label or a pop-up notice)"
    )


def test_the_check_catches_a_name_filled_with_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("texts.PROMPT.format(who=user.full_name, n=to_persian_digits(3))\n")
    assert _violations(bad) == ["bad.py:1 who=user.full_name"]
