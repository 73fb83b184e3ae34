"""The in-memory fakes behave like the database where the desk relies on it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from desk.model import (
    ChatRef,
    Draft,
    DraftFile,
    DraftStatus,
    Kind,
    Notice,
    NoticeKind,
    Platform,
    Request,
    Status,
)
from tests.unit.fakes import DuplicateCode, FakeStore

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def request(code: str = "1234567890") -> Request:
    return Request(code, Kind.COMPLAINT, Status.ROUTED, "متن", AT, AT)


async def test_updating_a_committed_request_commits() -> None:
    store = FakeStore()
    async with store() as tx:
        await tx.requests.add(request())
        await tx.commit()
    async with store() as tx:
        found = await tx.requests.get("1234567890")
        assert found is not None
        found.status = Status.IN_PROGRESS
        await tx.requests.update(found)
        await tx.outbox.add(Notice(Platform.TELEGRAM, 1, NoticeKind.CARD_REFRESH, found.code))
        await tx.commit()
    assert store.requests["1234567890"].status is Status.IN_PROGRESS
    assert len(store.outbox) == 1
    assert store.committed == 2


async def test_an_update_without_commit_is_dropped() -> None:
    store = FakeStore()
    async with store() as tx:
        await tx.requests.add(request())
        await tx.commit()
    before = copy.deepcopy(store.requests)
    async with store() as tx:
        found = await tx.requests.get("1234567890")
        assert found is not None
        found.status = Status.CLOSED
        await tx.requests.update(found)
    assert store.requests == before


async def test_two_transactions_adding_the_same_code_clash_at_commit() -> None:
    store = FakeStore()
    async with store() as first, store() as second:
        await first.requests.add(request())
        await second.requests.add(request())
        await first.commit()
        with pytest.raises(DuplicateCode):
            await second.commit()
    assert len(store.requests) == 1


async def test_adding_a_taken_code_fails_at_once() -> None:
    store = FakeStore()
    async with store() as tx:
        await tx.requests.add(request())
        await tx.commit()
    async with store() as tx:
        with pytest.raises(DuplicateCode):
            await tx.requests.add(request())


CHAT = ChatRef(Platform.BALE, 42)
DOC = DraftFile("draft.pdf", b"%PDF")


def draft() -> Draft:
    return Draft("عنوان", "خلاصه", "agronomy", AT, AT)


async def test_a_draft_commits_with_its_file_and_rolls_back_without() -> None:
    store = FakeStore()
    async with store() as tx:
        added = await tx.drafts.add(draft(), DOC)
        assert added.id == 1
        assert await tx.drafts.get(1) == added  # read your own writes
        assert await tx.drafts.file(1, "document") == DOC
    assert store.drafts == {}
    assert store.draft_files == {}
    async with store() as tx:
        added = await tx.drafts.add(draft(), DOC)
        assert added.id == 2  # a sequence: not reused after a rollback
        await tx.drafts.set_file(2, "final", DraftFile("final.pdf", b"%PDF final"))
        await tx.commit()
    assert list(store.drafts) == [2]
    assert set(store.draft_files) == {(2, "document"), (2, "final")}


async def test_a_draft_update_without_commit_is_dropped() -> None:
    store = FakeStore()
    async with store() as tx:
        await tx.drafts.add(draft(), DOC)
        await tx.drafts.add(draft(), DOC)
        await tx.commit()
    async with store() as tx:
        found = await tx.drafts.get(1)
        assert found is not None
        found.status = DraftStatus.OPEN
        again = await tx.drafts.get(1)
        assert again is not None and again.status is DraftStatus.SCHEDULED  # get gives copies
        await tx.drafts.update(found)
        assert [d.id for d in await tx.drafts.all()] == [2, 1]  # newest first
        statuses = [d.status for d in await tx.drafts.all()]
        assert statuses == [DraftStatus.SCHEDULED, DraftStatus.OPEN]
    assert store.drafts[1].status is DraftStatus.SCHEDULED
    async with store() as tx:
        with pytest.raises(KeyError):
            await tx.drafts.update(Draft("x", "y", "agronomy", AT, AT, id=9))


async def test_comments_include_pending_ones_oldest_first() -> None:
    store = FakeStore()
    async with store() as tx:
        first = request("1111111111")
        first.kind, first.draft_id = Kind.COMMENT, 1
        await tx.requests.add(first)
        await tx.commit()
    async with store() as tx:
        second = request("2222222222")
        second.kind, second.draft_id = Kind.COMMENT, 1
        other = request("3333333333")
        other.kind, other.draft_id = Kind.COMMENT, 2
        not_comment = request("4444444444")
        not_comment.draft_id = 1
        for r in (second, other, not_comment):
            await tx.requests.add(r)
        assert [r.code for r in await tx.drafts.comments(1)] == ["1111111111", "2222222222"]


async def test_comment_counts_include_pending_ones_and_only_comments() -> None:
    store = FakeStore()
    async with store() as tx:
        first = request("1111111111")
        first.kind, first.draft_id = Kind.COMMENT, 1
        await tx.requests.add(first)
        await tx.commit()
    async with store() as tx:
        second = request("2222222222")
        second.kind, second.draft_id = Kind.COMMENT, 1
        other = request("3333333333")
        other.kind, other.draft_id = Kind.COMMENT, 2
        not_comment = request("4444444444")
        not_comment.draft_id = 1
        for r in (second, other, not_comment):
            await tx.requests.add(r)
        assert await tx.drafts.comment_counts() == {1: 2, 2: 1}


async def test_citizens_commit_with_the_transaction() -> None:
    store = FakeStore()
    async with store() as tx:
        assert await tx.citizens.seen(CHAT, 7, AT)
        assert not await tx.citizens.seen(CHAT, 7, AT)
        await tx.citizens.subscribe(CHAT, True, AT)
        assert await tx.citizens.subscribers() == [CHAT]
    assert store.citizens == {}
    async with store() as tx:
        assert await tx.citizens.seen(CHAT, 7, AT)
        await tx.commit()
    async with store() as tx:
        assert not await tx.citizens.is_subscribed(CHAT)
        await tx.citizens.subscribe(CHAT, True, AT)
        assert await tx.citizens.is_subscribed(CHAT)
    assert not store.citizens[CHAT].subscribed  # the committed row was not touched
    async with store() as tx:
        await tx.citizens.subscribe(CHAT, True, AT)
        await tx.commit()
    assert store.citizens[CHAT].subscribed
    assert store.citizens[CHAT].user_id == 7


async def test_progress_counts_marked_notices_of_a_tag() -> None:
    store = FakeStore()
    async with store() as tx:
        for chat_id in range(4):
            await tx.outbox.add(
                Notice(Platform.TELEGRAM, chat_id, NoticeKind.DRAFT_ANNOUNCE, tag="t")
            )
        await tx.outbox.add(Notice(Platform.TELEGRAM, 9, NoticeKind.BROADCAST))
        await tx.commit()
    tagged = store.tagged("t")
    assert tagged == [0, 1, 2, 3]
    store.mark_delivered(tagged[0], tagged[1], 4)
    store.mark_failed(tagged[2])
    with pytest.raises(ValueError, match="already"):
        store.mark_failed(tagged[0])
    with pytest.raises(IndexError):
        store.mark_delivered(5)
    async with store() as tx:
        assert await tx.outbox.progress("t") == (2, 1, 4)
        assert await tx.outbox.progress("other") == (0, 0, 0)
        await tx.outbox.add(Notice(Platform.BALE, 1, NoticeKind.DRAFT_ANNOUNCE, tag="t"))
        assert await tx.outbox.progress("t") == (2, 1, 5)  # like SQL: own rows count, unsent


async def test_two_units_of_work_writing_one_draft_at_once_fail_in_the_fake() -> None:
    """On SQL the second writer's UPDATE waits for the first and then matches no row
    (`SqlDrafts.update`, tests/integration/test_job_races.py); the fake cannot wait, so
    such a test fails loudly instead of passing with the first writer's change lost."""
    from desk.model import Draft, DraftFile, DraftStatus
    from tests.unit.fakes import FakeUnitOfWork

    store = FakeStore()
    opens = datetime(2026, 3, 21, tzinfo=UTC)
    async with FakeUnitOfWork(store) as tx:
        draft = Draft(title="t", summary="s", unit="u", opens_at=opens,
                      closes_at=opens + timedelta(days=14), file_name="d.pdf",
                      status=DraftStatus.OPEN)  # fmt: skip
        await tx.drafts.add(draft, DraftFile("d.pdf", b"%PDF", "application/pdf"))
        await tx.commit()
    assert draft.id is not None
    admin, job = FakeUnitOfWork(store), FakeUnitOfWork(store)
    async with admin as a, job as j:
        withdrawn = await a.drafts.get(draft.id)
        progressed = await j.drafts.get(draft.id)
        assert withdrawn is not None and progressed is not None
        withdrawn.status = DraftStatus.WITHDRAWN
        progressed.progress_reported = 25
        assert await a.drafts.update(withdrawn) and await j.drafts.update(progressed)
        await a.commit()
        with pytest.raises(RuntimeError, match="at once"):
            await j.commit()
    assert store.drafts[draft.id].status is DraftStatus.WITHDRAWN
