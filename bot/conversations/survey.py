"""Service survey: which service, Likert questions from configuration, an optional comment."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.conversations import common, steps
from bot.conversations.common import Flow, Prompts
from bot.conversations.filing import draft_data, quota_refuses, submit
from bot.deps import Deps
from bot.runtime.platforms import PlatformBot, Renderer
from bot.runtime.routers import private_router
from bot.ui import keyboards, texts
from bot.ui.callbacks import LikertData
from desk import validation
from desk.model import Kind, NewRequest
from desk.routing import Choice
from desk.text import to_latin_digits, to_persian_digits
from desk.validation import InvalidInput


class Survey(StatesGroup):
    """The steps of the survey."""

    service = State()
    question = State()
    comment = State()


async def begin(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """Start the survey, unless this account has used its filing quota."""
    if await quota_refuses(message, state, deps, ui, prompts, bot, common.user_id_of(message)):
        return
    await state.set_data(draft_data("survey", answers=[]))
    await prompts.ask(Survey.service, message, state, deps, ui)


def _services(deps: Deps) -> list[Choice]:
    return [Choice(str(i), name) for i, name in enumerate(deps.rules.survey.services)]


async def ask_service(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Which service."""
    return texts.ASK_SURVEY_SERVICE, keyboards.choices(deps.rules.survey.services, columns=1)


async def got_service(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """Take the service and show the first question."""
    try:
        service = common.pick(message, _services(deps))
    except InvalidInput as exc:
        await prompts.reask(message, state, deps, ui, common.error_text(ui, exc))
        return
    await state.update_data(service=service.name, answers=[])
    # the services' keyboard goes: each question shows only its own answer buttons
    await message.answer(
        ui.fmt(texts.SURVEY_SERVICE_TAKEN, service=service.name),
        reply_markup=keyboards.back_or_cancel(),
    )
    await prompts.ask(Survey.question, message, state, deps, ui)


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
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts, value: int
) -> None:
    data = await state.get_data()
    answers = [*list(data.get("answers") or []), value]
    await state.update_data(answers=answers)
    if len(answers) < len(deps.rules.survey.questions):
        await prompts.ask(Survey.question, message, state, deps, ui)
    else:
        await prompts.ask(Survey.comment, message, state, deps, ui)


async def pressed_likert(
    query: CallbackQuery,
    callback_data: LikertData,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
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
    await _record(query.message, state, deps, ui, prompts, v)


async def malformed_likert(query: CallbackQuery) -> None:
    """A 1-5 button whose data does not unpack (forged): stop the spinner, nothing else."""
    await query.answer()


async def typed_likert(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """A typed 1-5 is accepted too; anything else is asked again."""
    value = to_latin_digits((message.text or "").strip())[:1]
    if value in {"1", "2", "3", "4", "5"}:
        await _record(message, state, deps, ui, prompts, int(value))
        return
    await prompts.reask(message, state, deps, ui, texts.PICK_LIKERT)


async def ask_comment(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer
) -> tuple[str, Any]:
    """Optional comment."""
    return texts.ASK_SURVEY_COMMENT.format(
        words=to_persian_digits(common.about_words(validation.COMMENT_MAX)),
        skip=texts.BTN_NO_COMMENT,
    ), keyboards.no_comment_or_cancel()


async def got_comment(
    message: Message,
    state: FSMContext,
    deps: Deps,
    ui: Renderer,
    prompts: Prompts,
    bot: PlatformBot,
) -> None:
    """Take or skip the comment and file the answers."""
    try:
        comment = common.text_of(message)
        if comment in (texts.BTN_NO_COMMENT, *texts.OLD_SKIP_LABELS):  # an old keyboard's
            comment = ""
        else:
            comment = validation.description(comment, minimum=1, maximum=validation.COMMENT_MAX)
    except InvalidInput as exc:
        await prompts.reask(message, state, deps, ui, common.error_text(ui, exc))
        return
    data = await state.get_data()
    questions = deps.rules.survey.questions
    await submit(
        message,
        state,
        deps,
        ui,
        prompts,
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


async def back(
    message: Message, state: FSMContext, deps: Deps, ui: Renderer, prompts: Prompts
) -> None:
    """«بازگشت» on a question or the comment: the question before, its answer taken back (the
    earlier answers kept); on the first question, the services."""
    answers = list((await state.get_data()).get("answers") or [])
    if not answers:
        await prompts.ask(Survey.service, message, state, deps, ui)
        return
    await state.update_data(answers=answers[:-1])
    await prompts.ask(Survey.question, message, state, deps, ui)


def flow() -> Flow:
    """The survey's router (private chats) and its questions, in the order they are asked."""
    router = private_router("survey")
    router.message.register(begin, F.text == texts.BTN_SURVEY)
    router.callback_query.register(pressed_likert, Survey.question, LikertData.filter())
    router.callback_query.register(malformed_likert, Survey.question, F.data.startswith("lk:"))
    prompts = steps.add(
        router,
        steps.Step(Survey.service, ask_service, got_service),
        steps.Step(Survey.question, ask_question, typed_likert),
        steps.Step(Survey.comment, ask_comment, got_comment),
    )
    return Flow(router, prompts, back={Survey.question: back, Survey.comment: back})
