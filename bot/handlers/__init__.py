"""Every router of the bot, included in one explicit order; the tree is built once per process
and lent to one dispatcher at a time (`lend_router`, `give_back`)."""

from __future__ import annotations

from aiogram import Router

from bot.conversations import common, complaint, head, publish, suggestion, survey
from bot.conversations.common import Prompts
from bot.handlers import (
    admin,
    citizen,
    directory,
    drafts,
    errors,
    fallback,
    followup,
    grants,
    staff,
)


def build_router() -> tuple[Router, Prompts]:
    """The root router, and the questions of its conversations' states (the dispatcher hands
    them to the handlers as `prompts`).

    Order matters: who is staff (/staff, /unstaff, /staff_list) first, so a /staff replying to a
    card is never taken for an answer; then staff groups and admin chats (their own filters; an
    admin command before a /publish step, the outsiders' notices last); then cancel and /start
    mid-way before any conversation step, the flows, follow-ups, the citizen menu, and last the
    catch-all for unexpected button presses."""
    flows = [
        complaint.flow(),
        suggestion.flow(),
        head.flow(),
        survey.flow(),
        followup.flow(),
        drafts.flow(),
        directory.flow(),
        citizen.flow(),
    ]
    root = Router(name="root")
    root.include_routers(
        errors.router(),
        grants.router(),
        staff.router(),
        admin.router(),
        publish.router(),
        admin.outsiders_router(),
        common.router(),
        *(flow.router for flow in flows),  # the citizen menu's last
        fallback.router(),
    )
    return root, Prompts(*flows)


# Trees that closed apps of this process gave back. aiogram builds a dummy handler, through
# `inspect.signature`, for each of a Router's 28 observers: the 17 routers cost 25-30 ms of
# CPU, a tenth of the suite's, which starts an app hundreds of times (a production process
# starts one). A Router belongs to one parent, so a tree is lent to one dispatcher at a time.
_SPARE: list[tuple[Router, Prompts]] = []


def lend_router() -> tuple[Router, Prompts]:
    """A root router that no dispatcher holds, with its prompts: one given back by an app
    closed in this process, else a new one (`build_router`)."""
    return _SPARE.pop() if _SPARE else build_router()


def give_back(root: Router, prompts: Prompts, parent: Router) -> None:
    """Detach `root` from `parent`, the dispatcher it was lent to (whose handling has
    ended), and keep it for the next `lend_router`. Nothing happens unless `parent` still
    holds it: a second or late call must not take the tree from the dispatcher it was lent
    to next."""
    if root.parent_router is not parent:
        return
    parent.sub_routers.remove(root)
    # aiogram has no public way to detach a router (pinned to 3.31 in pyproject.toml;
    # tests/unit/test_routers.py lends one tree to two dispatchers in turn)
    root._parent_router = None
    _SPARE.append((root, prompts))
