"""SqlRequests.in_period and events_for: the half-open period and reading many trails at once,
on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from desk import reports
from desk.model import Event, Kind, Request, Status
from storage.repositories import SqlUnitOfWork, _to_row
from tests.integration.conftest import Database
from tests.unit.test_reports import END, NOW, T0, dataset


async def test_the_hand_worked_month_from_sql(db: Database) -> None:
    requests, events = dataset()
    async with db.uow()() as tx:
        for request in requests:
            await tx.requests.add(request)
            for event in events[request.code]:
                await tx.requests.add_event(event)
        await tx.commit()
    async with db.uow()() as tx:
        found = await tx.requests.in_period(T0, END)
        trails = await tx.requests.events_for([r.code for r in found] + ["unknown"])
    # R9 (half an hour before T0) and R10 (at END exactly) are outside [T0, END)
    assert [r.code for r in found] == ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"]
    assert set(trails) == {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"}
    assert [e.action for e in trails["R2"]] == [e.action for e in events["R2"]]
    assert trails["R2"][-1].at == T0 + timedelta(hours=61)  # filed T0+1h, reopened +60h
    report = reports.compute(found, trails, T0, END, NOW)
    assert (report.total.received, report.total.answered, report.total.open) == (8, 3, 3)
    assert report.total.first_response == timedelta(hours=3)
    assert report.total.to_answer == timedelta(hours=23)


async def test_events_of_many_requests_are_read_in_batches(db: Database) -> None:
    codes = [f"{i:010d}" for i in range(1, 1202)]  # more than two batches of 500
    async with SqlUnitOfWork(db.sessions) as tx:
        # the rows go in one flush: the repository's `add` flushes each request to learn its
        # id (1,201 flushes: most of this test's time, and not what it is about)
        for i, code in enumerate(codes):
            at = T0 + timedelta(minutes=i)
            tx.session.add(_to_row(Request(code, Kind.COMPLAINT, Status.ROUTED, "…", at, at)))
            await tx.requests.add_event(Event(code, "filed", at, "telegram:1"))
            await tx.requests.add_event(Event(code, "claimed", at + timedelta(hours=1), "staff"))
        await tx.commit()
    async with db.uow()() as tx:
        found = await tx.requests.in_period(T0, T0 + timedelta(days=1))
        trails = await tx.requests.events_for([r.code for r in found])
    assert len(found) == len(trails) == 1201
    assert all([e.action for e in trail] == ["filed", "claimed"] for trail in trails.values())
