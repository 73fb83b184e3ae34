"""Service survey: which service, Likert questions from configuration, an optional comment."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.conversations import common
from bot.conversations.common import ask, prompt
from bot.conversations.filing import draft_data, quota_refuses, submit
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer
from bot.runtime.registry import Handlers
from bot.ui import keyboards, texts
from bot.ui.callbacks import LikertData
from desk import validation
from desk.model import Kind, NewRequest
from desk.routing import Choice
from desk.text import to_latin_digits, to_persian_digits
from desk.validation import InvalidInput

router = Handlers("survey", private_only=True)


class Survey(StatesGroup):
    """The steps of the survey."""

    service = State()
    question = State()
    comment = State()


@router.message(F.text == texts.BTN_SURVEY)
async def begin(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Start the survey, unless this account has used its filing quota."""
    if await quota_refuses(message, state, deps, ui, bot, common.user_id_of(message)):
        return
    await state.set_data(draft_data("survey", answers=[]))
    await ask(Survey.service, message, state, deps, ui)


def _services(deps: Deps) -> list[Choice]:
    return [Choice(str(i), name) for i, name in enumerate(deps.rules.survey.services)]


@prompt(Survey.service)
async def ask_service(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Which service."""
    return texts.ASK_SURVEY_SERVICE, keyboards.choices(deps.rules.survey.services, columns=1)


@router.message(Survey.service)
async def got_service(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """Take the service and show the first question."""
    try:
        service = common.pick(message, _services(deps))
    except InvalidInput as exc:
        await common.reask(message, state, deps, ui, common.error_text(ui, exc))
        return
    await state.update_data(service=service.name, answers=[])
    await ask(Survey.question, message, state, deps, ui)


@prompt(Survey.question)
async def ask_question(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """The next unanswered question, with 1-5 buttons."""
    data = await state.get_data()
    index = len(data.get("answers") or [])
    questions = deps.rules.survey.questions
    text = ui.fmt(
        texts.ASK_SURVEY_QUESTION,
        n=to_persian_digits(index + 1),
        total=to_persian_digits(len(questions)),
        question=questions[index],
    )
    return text, keyboards.likert(index)


async def _record(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, value: int
) -> None:
    data = await state.get_data()
    answers = [*list(data.get("answers") or []), value]
    await state.update_data(answers=answers)
    if len(answers) < len(deps.rules.survey.questions):
        await ask(Survey.question, message, state, deps, ui)
    else:
        await ask(Survey.comment, message, state, deps, ui)


@router.callback_query(Survey.question, LikertData.filter())
async def pressed_likert(
    query: CallbackQuery,
    callback_data: LikertData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
) -> None:
    """A 1-5 button; a press on an older question's buttons is ignored (and forged data never
    unpacks: `malformed_likert`)."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    data = await state.get_data()
    q, v = callback_data.question, callback_data.value
    if q != len(data.get("answers") or []) or not 1 <= v <= 5:
        return
    await _record(query.message, state, deps, ui, v)


@router.callback_query(Survey.question, F.data.startswith("lk:"))
async def malformed_likert(query: CallbackQuery) -> None:
    """A 1-5 button whose data does not unpack (forged): stop the spinner, nothing else."""
    await query.answer()


@router.message(Survey.question)
async def typed_likert(message: Message, state: FSMContext, deps: Deps, ui: Renderer) -> None:
    """A typed 1-5 is accepted too; anything else is asked again."""
    value = to_latin_digits((message.text or "").strip())[:1]
    if value in {"1", "2", "3", "4", "5"}:
        await _record(message, state, deps, ui, int(value))
        return
    await common.reask(message, state, deps, ui, texts.PICK_LIKERT)


@prompt(Survey.comment)
async def ask_comment(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Optional comment."""
    return texts.ASK_SURVEY_COMMENT.format(
        max=to_persian_digits(validation.COMMENT_MAX), skip=texts.BTN_SKIP
    ), keyboards.skip_or_cancel()


@router.message(Survey.comment)
async def got_comment(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, bot: PlatformBot
) -> None:
    """Take or skip the comment and file the answers."""
    try:
        comment = common.text_of(message)
        if comment == texts.BTN_SKIP:
            comment = ""
        else:
            comment = validation.description(comment, minimum=1, maximum=validation.COMMENT_MAX)
    except InvalidInput as exc:
        await common.reask(message, state, deps, ui, common.error_text(ui, exc))
        return
    data = await state.get_data()
    questions = deps.rules.survey.questions
    await submit(
        message,
        state,
        deps,
        ui,
        NewRequest(
            kind=Kind.SURVEY,
            chat=common.chat_of(message, bot.platform),
            user_id=message.from_user.id if message.from_user else None,
            text=comment,
            survey={
                "service": data["service"],
                "answers": [
                    {"question": q, "score": s}
                    for q, s in zip(questions, data["answers"], strict=True)
                ],
            },
        ),
        later=texts.QUOTA_SEND_LATER,
    )
