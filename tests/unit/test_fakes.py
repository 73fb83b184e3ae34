"""The in-memory fakes behave like the database where the desk relies on it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from desk.model import Kind, Notice, NoticeKind, Platform, Request, Status
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
