"""The status table of a request (desk.model.TRANSITIONS): every action from every status,
and the README's copy of the table, which must not drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desk.model import (
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    Status,
    WrongStatus,
    allows,
    transition,
)

README = Path(__file__).resolve().parents[2] / "README.md"

F, R, P, W, A, C, RE = (
    Status.FILED,
    Status.ROUTED,
    Status.IN_PROGRESS,
    Status.WAITING,
    Status.ANSWERED,
    Status.CLOSED,
    Status.REOPENED,
)

# Written out by hand, apart from the code: the status after each allowed action.
EXPECTED: dict[Action, dict[Status, Status]] = {
    Action.ROUTE: {F: R},
    Action.CLAIM: {F: P, R: P, RE: P},
    Action.TRANSFER: {F: R, R: R, P: R, W: R, RE: R},
    Action.ASK: {F: W, R: W, P: W, W: W, RE: W},
    Action.ANSWER: {F: A, R: A, P: A, W: A, A: A, RE: A},
    Action.CLOSE: {F: C, R: C, P: C, W: C, RE: C},
    Action.CLARIFY: {F: F, R: R, P: P, W: P, RE: RE},
    Action.RATE: {A: A},
    Action.REOPEN: {A: RE},
}


def test_every_action_has_a_rule() -> None:
    assert set(TRANSITIONS) == set(Action) == set(EXPECTED)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(Status))
def test_every_action_from_every_status(action: Action, status: Status) -> None:
    allowed = EXPECTED[action]
    assert allows(status, action) is (status in allowed)
    if status in allowed:
        assert transition(status, action) is allowed[status]
    else:
        with pytest.raises(WrongStatus) as info:
            transition(status, action)
        assert info.value.status is status


def test_events_record_a_status_only_where_the_action_sets_one() -> None:
    # a clarification outside a question and a rating leave the status (and the event) alone
    stays = {
        (action, status)
        for action, rule in TRANSITIONS.items()
        for status, target in rule.items()
        if target is None
    }
    assert stays == {(Action.CLARIFY, s) for s in OPEN_STATUSES - {W}} | {(Action.RATE, A)}


def test_nothing_leads_back_to_filed_and_closed_is_final() -> None:
    assert all(target is not F for rule in TRANSITIONS.values() for target in rule.values())
    assert not any(allows(C, action) for action in Action)


def _cell(action: Action, status: Status) -> str:
    if not allows(status, action):
        return "—"
    target = TRANSITIONS[action][status]
    return "stays" if target is None else target.value


def transitions_markdown() -> str:
    """The table as the README shows it, generated from the code."""
    statuses = list(Status)
    lines = [
        "| action (its event) | " + " | ".join(s.value for s in statuses) + " |",
        "|---|" + "---|" * len(statuses),
    ]
    lines += [
        f"| `{a.value}` | " + " | ".join(_cell(a, s) for s in statuses) + " |" for a in Action
    ]
    return "\n".join(lines)


def test_readme_table_is_the_code_table() -> None:
    block = re.search(
        r"<!-- transitions: begin -->\n(.*?)\n<!-- transitions: end -->", README.read_text(), re.S
    )
    assert block is not None, "README lost its transitions table markers"
    assert block.group(1).strip() == transitions_markdown(), (
        "README's status table differs from desk.model.TRANSITIONS; paste this:\n"
        + transitions_markdown()
    )
