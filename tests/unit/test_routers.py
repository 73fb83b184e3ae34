"""The routers are built by factories, lent to one dispatcher at a time, and every state a
conversation moves to has its question."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest
from aiogram import Dispatcher, Router
from aiogram.fsm.state import State

import bot.conversations
import bot.handlers
from bot.conversations.common import Flow, Prompts
from bot.conversations.complaint import Complaint
from bot.conversations.head import HeadMessage
from bot.conversations.suggestion import Suggestion
from bot.conversations.survey import Survey
from bot.handlers import build_router, give_back, lend_router


def _names(router: Router) -> list[str]:
    return [r.name for r in router.chain_tail]


def test_the_dispatcher_can_be_built_twice_in_one_process() -> None:
    first, _ = build_router()
    second, prompts = build_router()
    for router in (first, second):
        Dispatcher().include_router(router)  # a Router shared by two parents would raise
    assert first is not second
    assert _names(first) == _names(second)
    assert _names(first)[:7] == [
        "root", "errors", "grants", "staff", "admin", "publish", "admin-outsiders",
    ]  # fmt: skip
    assert _names(first)[-2:] == ["citizen", "fallback"]
    assert prompts.states == build_router()[1].states


def test_a_tree_given_back_is_lent_to_the_next_dispatcher_once() -> None:
    """A closed app gives its tree back; the next dispatcher gets that same tree (not one
    built again), and a second or late give-back of the first app takes nothing from it."""
    root, prompts = lend_router()
    first = Dispatcher()
    first.include_router(root)
    give_back(root, prompts, first)
    give_back(root, prompts, first)  # a second close of the same app
    assert root not in first.sub_routers and root.parent_router is None
    again, again_prompts = lend_router()
    assert again is root and again_prompts is prompts
    second = Dispatcher()
    second.include_router(again)  # attached once more: would raise if still held
    give_back(root, prompts, first)  # late: the tree is the second dispatcher's now
    assert again in second.sub_routers and again.parent_router is second
    other, _ = lend_router()
    assert other is not root  # lent already: a new tree is built
    Dispatcher().include_router(other)


def test_every_step_of_the_filing_flows_asks_a_question() -> None:
    _, prompts = build_router()
    for group in (Complaint, HeadMessage, Suggestion, Survey):
        for state in group.__all_states__:
            assert state.state in prompts.states, state.state


def _modules() -> list[ModuleType]:
    found = []
    for package in (bot.conversations, bot.handlers):
        for info in pkgutil.iter_modules(package.__path__):
            found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return found


def _targets(module: ModuleType) -> list[tuple[str, State]]:
    """The states a module's code hands to `ask` (directly, or as the next step, the summary,
    the edit step or an editable field): every `prompts.ask(X…)`, keyword `nxt=`, `summary=`,
    `edit=` and `EDITABLE` value that names a state of the module's own namespace."""
    assert module.__file__ is not None
    source = Path(module.__file__).read_text(encoding="utf-8")
    nodes: list[ast.expr] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "ask" and node.args:
                nodes.append(node.args[0])
            nodes += [k.value for k in node.keywords if k.arg in ("nxt", "summary", "edit")]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EDITABLE" for t in node.targets
        ):
            assert isinstance(node.value, ast.Dict)
            nodes += node.value.values
    targets = []
    for expr in nodes:
        try:
            value = eval(compile(ast.Expression(expr), "<target>", "eval"), vars(module))
        except NameError:
            continue  # a parameter passed through (nxt, summary, target): its callers count
        if isinstance(value, State):
            targets.append((ast.unparse(expr), value))
    return targets


def test_every_state_that_ask_can_move_to_has_a_prompt() -> None:
    _, prompts = build_router()
    targets = [(m.__name__, text, s) for m in _modules() for text, s in _targets(m)]
    assert len(targets) > 30, "the scan finds the flows' steps"
    missing = [(name, text) for name, text, s in targets if s.state not in prompts.states]
    assert missing == []


def test_a_state_asked_by_two_flows_is_refused() -> None:
    async def question(*_: object) -> tuple[str, None]:
        return "?", None

    one = Flow(Router(), {Complaint.name: question})
    with pytest.raises(ValueError, match="two flows"):
        Prompts(one, Flow(Router(), {Complaint.name: question}))
