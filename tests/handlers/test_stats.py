"""Stats: the figures the provincial reports quote, built only from events, each counted once
whatever the order and repeats; the service index and the communes' ranking; snapshots."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from motcua_contracts import (
    ComplaintAnswered,
    ComplaintReceived,
    ComponentDigitised,
    DossierApologised,
    DossierApproved,
    DossierCompleted,
    DossierDigitised,
    DossierRefused,
    DossierWithdrawn,
    Event,
    Exemption,
    FeedbackReceived,
    PaymentCompleted,
    PaymentExpired,
    PaymentNotRequired,
    PaymentRequested,
    ResultArchived,
    StatsSnapshot,
)

from services.stats import snapshots, store
from services.stats.app import create
from services.stats.settings import StatsSettings
from tests.harness import Harness, until

from .events import RECEIVED_AT, received, signed

DAY = RECEIVED_AT.date().isoformat()  # 2026-11-24 (local and UTC alike at 09:00)
PERIOD = {"from": "2026-11-01", "to": "2026-12-31"}


@asynccontextmanager
async def running(**settings: Any) -> AsyncIterator[Harness]:
    async with Harness.running(create(StatsSettings(profile="development", **settings))) as stats:
        yield stats


def completed(code: str, outcome: Literal["early", "on_time", "late"], days: int = 3, **more: Any) -> DossierCompleted:
    at = RECEIVED_AT + timedelta(days=days)
    return DossierCompleted(
        dossier_code=code, result_code=f"{code}-KQ1", completed_at=at, due_at=at, outcome=outcome, **more
    )


def digitised(code: str, scanned: int = 1, reused: int = 1, count: int = 3) -> DossierDigitised:
    copy = {"sha256": "ab" * 32, "document_id": f"{code}-TP"}
    origins = ["uploaded", "scanned", "reused"][:count]
    return DossierDigitised(
        dossier_code=code,
        components=[ComponentDigitised(name=f"TP{n}", origin=o, **copy) for n, o in enumerate(origins)],  # type: ignore[arg-type]
        digitised_at=RECEIVED_AT + timedelta(minutes=5),
        unit=code.split("-")[0],
        components_scanned=scanned,
        components_reused=reused,
    )


def paid(code: str, amount: int, channel: Literal["online", "counter"]) -> PaymentCompleted:
    return PaymentCompleted(
        dossier_code=code,
        reference=f"PAY-{code}",
        amount_vnd=amount,
        gateway_transaction=f"T-{code}",
        paid_at=RECEIVED_AT + timedelta(hours=1),
        channel=channel,
    )


def requested(code: str, amount: int = 20000) -> PaymentRequested:
    return PaymentRequested(dossier_code=code, reference=f"PAY-{code}", amount_vnd=amount, gateway="payment-platform")


def lifecycle() -> list[Event]:
    """A commune's month: five dossiers of H40.101 (one carried over from October) and one of H40.102."""
    a, b, c, d, e = (f"H40.101-261124-000{n}" for n in range(1, 6))
    old = "H40.101-261015-0001"
    other = "H40.102-261124-0001"
    at = RECEIVED_AT
    exemption = Exemption(ground="social_protection", label="Bảo trợ xã hội", reason="Thẻ 1", waived_vnd=20000)
    return [
        received(old, received_at=datetime(2026, 10, 15, 2, tzinfo=UTC), channel="counter"),
        received(a, channel="online_full"),
        received(b, channel="online_partial"),
        received(c, channel="counter"),
        received(d, channel="post"),
        received(e, channel="online_full"),
        received(other, channel="online_full"),
        digitised(a),
        digitised(b, count=2),
        requested(a),
        requested(b),
        requested(c),
        PaymentNotRequired(dossier_code=d, exemption=exemption),
        PaymentNotRequired(dossier_code=e),
        paid(a, 20000, "online"),
        paid(b, 20000, "counter"),
        PaymentExpired(dossier_code=c, reference=f"PAY-{c}", amount_vnd=20000, expired_at=at + timedelta(days=2)),
        completed(old, "late", days=1),
        completed(a, "early"),
        completed(b, "on_time"),
        signed(a, at + timedelta(days=2)),
        ResultArchived(
            dossier_code=a,
            result_code=f"{a}-KQ1",
            document_id="d",
            sha256="ab" * 32,
            archived_at=at + timedelta(days=3),
        ),
        signed(b, at + timedelta(days=2)),
        DossierRefused(
            dossier_code=c, reason="thiếu", refused_by="x", unit="H40.101", refused_at=at + timedelta(days=20)
        ),
        DossierWithdrawn(dossier_code=d, reason="rút", withdrawn_at=at + timedelta(days=1)),
        DossierApologised(
            dossier_code=e,
            reason="chờ xác minh",
            due_at=at + timedelta(days=9),
            new_due_at=at + timedelta(days=12),
            apologised_by="x",
            unit="H40.101",
            apologised_at=at + timedelta(days=2),
        ),
        FeedbackReceived(dossier_code=a, rating=5, received_at=at + timedelta(days=4)),
        FeedbackReceived(dossier_code=b, rating=2, received_at=at + timedelta(days=4)),
        ComplaintReceived(
            dossier_code=e,
            complaint_code=f"PA-{e}-1",
            kind="phan_anh",
            unit="H40.101",
            received_at=at + timedelta(days=1),
            answer_by=at + timedelta(days=15),
        ),
        ComplaintAnswered(
            dossier_code=e,
            complaint_code=f"PA-{e}-1",
            unit="H40.101",
            answered_by="x",
            answered_at=at + timedelta(days=2),
            on_time=True,
        ),
    ]


async def deliver_all(stats: Harness, events: list[Event]) -> None:
    for event in events:
        await stats.deliver(event, commune=event.dossier_code.split("-")[0])


async def test_a_communes_figures_for_a_month_are_what_its_report_quotes() -> None:
    async with running() as stats:
        await deliver_all(stats, lifecycle())
        async with stats.http() as client:
            month = (await client.get("/stats/figures", params={"unit": "H40.101", **PERIOD})).json()
            province = (await client.get("/stats/figures", params=PERIOD)).json()
            online = (await client.get("/stats/figures", params={"channel": "online_full", **PERIOD})).json()
    counters, rates = month["counters"], month["rates"]
    assert month["scope"]["unit_name"] == "Xã An Hiệp" and month["scope"]["level"] == "commune"
    assert month["carried_over"] == 1  # received in October, still open on 1 November
    assert [counters[n] for n in ("received", "received_online_full", "received_counter", "received_post")] == [
        5,
        2,
        1,
        1,
    ]
    assert (counters["online"], rates["online_rate"]) == (3, 60.0)
    # resolved: the October one (late), a (early), b (on time) and c refused after its due date (late)
    assert [counters[n] for n in ("resolved", "early", "on_time", "late", "refused", "withdrawn")] == [4, 1, 1, 2, 1, 1]
    assert rates["early_or_on_time_rate"] == 50.0
    assert month["in_progress"] == 1  # e, apologised for, still open
    assert (counters["components"], counters["components_digitised"], counters["dossiers_digitised"]) == (15, 5, 1)
    assert (counters["components_scanned"], counters["components_reused"]) == (2, 2)
    assert (counters["results"], counters["results_digitised"], rates["results_digitised_rate"]) == (2, 1, 50.0)
    # fee-bearing: a, b, c and the exempt d; owed by three; paid online: a
    assert [counters[n] for n in ("fee_bearing", "fee_exempt", "paid_online", "paid_counter")] == [4, 1, 1, 1]
    assert (rates["paid_online_rate"], counters["collected_vnd"], counters["payments_expired"]) == (33.33, 40000, 1)
    assert (counters["rated"], counters["satisfied"], counters["dissatisfied"], rates["average_rating"]) == (
        2,
        1,
        1,
        3.5,
    )
    # unhappy: b (rated 2), the late October one and c refused late
    assert (counters["unhappy"], rates["handling_satisfaction_rate"]) == (3, 25.0)
    assert (counters["complaints"], counters["complaints_answered_on_time"], rates["complaints_on_time_rate"]) == (
        1,
        1,
        100.0,
    )
    assert province["counters"]["received"] == 6 and province["carried_over"] == 1
    assert online["counters"]["received"] == 3  # a and e of H40.101, and H40.102's
    assert online["scope"]["channel"] == "online_full"


async def test_each_event_counts_once_whatever_the_order_and_the_repeats() -> None:
    events = lifecycle()
    async with running() as ordered:
        await deliver_all(ordered, events)
        async with ordered.http() as client:
            expected = (await client.get("/stats/figures", params=PERIOD)).json()
    shuffled = [*events, *random.Random(7).sample(events, 12)]
    random.Random(14).shuffle(shuffled)
    async with running() as stats:
        await deliver_all(stats, shuffled)
        async with stats.http() as client:
            got = (await client.get("/stats/figures", params=PERIOD)).json()
    assert got == expected


async def test_a_dossier_counts_for_the_unit_that_resolves_it() -> None:
    code = "H40.101-261124-0009"
    department = "000.16.01.H40"
    async with running() as stats:
        await stats.deliver(received(code, level="province"), commune="H40.101")
        await stats.deliver(
            DossierApproved(dossier_code=code, competent_unit=department, approved_by="A", result_title="Giấy phép"),
            commune="H40.101",
        )
        async with stats.http() as client:
            commune = (await client.get("/stats/figures", params={"unit": "H40.101", **PERIOD})).json()
            resolving = (await client.get("/stats/figures", params={"unit": department, **PERIOD})).json()
    assert commune["counters"]["received"] == 0
    assert resolving["counters"]["received"] == 1 and resolving["scope"]["level"] == "department"


async def test_overdue_and_soon_due_dossiers_are_listed_most_urgent_first() -> None:
    now = datetime.now(UTC)
    late, soon, later = "H40.101-261124-0021", "H40.101-261124-0022", "H40.101-261124-0023"
    async with running() as stats:
        await stats.deliver(received(late, received_at=now - timedelta(days=10), due_at=now - timedelta(hours=2)))
        await stats.deliver(received(soon, received_at=now - timedelta(days=1), due_at=now + timedelta(hours=3)))
        await stats.deliver(received(later, received_at=now, due_at=now + timedelta(days=8)))
        async with stats.http() as client:
            overdue = (await client.get("/stats/dossiers", params={"state": "overdue", "unit": "H40.101"})).json()
            due = (await client.get("/stats/dossiers", params={"state": "due_soon"})).json()
            figures = (await client.get("/stats/figures", params={"unit": "H40.101"})).json()
    assert [d["code"] for d in overdue["dossiers"]] == [late]
    assert overdue["dossiers"][0]["procedure_name"] == "Đăng ký thường trú"
    assert [d["code"] for d in due["dossiers"]] == [soon]
    assert (figures["overdue_now"], figures["due_soon_now"]) == (1, 1)


async def test_index_ranking_trend_and_breakdown() -> None:
    async with running() as stats:
        await deliver_all(stats, lifecycle())
        async with stats.http() as client:
            index = (await client.get("/stats/index", params={"unit": "H40.101", **PERIOD})).json()
            province = (await client.get("/stats/index", params=PERIOD)).json()
            ranking = (await client.get("/stats/ranking", params=PERIOD)).json()["communes"]
            trend = (await client.get("/stats/trend", params={"unit": "H40.101", **PERIOD})).json()["days"]
            fields = (await client.get("/stats/breakdown", params={"by": "channel", **PERIOD})).json()["rows"]
    assert {group["id"] for group in index["groups"]} == {
        "transparency",
        "progress",
        "online",
        "digitisation",
        "satisfaction",
    }
    assert sum(group["weight"] for group in index["groups"]) == 100
    assert index["score"] == round(sum(group["score"] for group in index["groups"]), 2)
    assert index["of"] == 2 and index["rank"] == next(r["rank"] for r in ranking if r["unit"] == "H40.101")
    assert (province["rank"], province["level"]) == (None, "province")
    # the two communes with dossiers are ranked; the others are listed after them, unranked
    assert len(ranking) == 130 and {r["unit"] for r in ranking[:2]} == {"H40.101", "H40.102"}
    assert sorted(r["rank"] for r in ranking[:2]) == [r["rank"] for r in ranking[:2]]
    assert {(r["rank"], r["score"]) for r in ranking[2:]} == {(None, None)}
    assert len(trend) == 61 and trend[23]["day"] == DAY and trend[23]["received"] == 5
    assert trend[0]["in_progress"] == 1 and trend[-1]["in_progress"] == 1
    assert {row["key"]: row["counters"]["received"] for row in fields} == {
        "online_full": 3,
        "online_partial": 1,
        "counter": 1,
        "post": 1,
    }


async def test_questions_stats_cannot_answer_get_a_clear_4xx() -> None:
    async with running() as stats, stats.http() as client:
        unknown = await client.get("/stats/figures", params={"unit": "H99.999"})
        reversed_ = await client.get("/stats/figures", params={"from": "2026-12-01", "to": "2026-11-01"})
        by = await client.get("/stats/breakdown", params={"by": "colour"})
        rebuild = await client.post("/stats/rebuild")
    assert (unknown.status_code, "H99.999" in unknown.json()["detail"]) == (404, True)
    assert reversed_.status_code == 422 and "after it ends" in reversed_.json()["detail"]
    assert by.status_code == 422
    assert rebuild.status_code == 401


async def test_snapshots_of_every_unit_then_of_the_units_that_changed_are_published() -> None:
    async with running(snapshot_every_s=0.05) as stats:
        await stats.deliver(received("H40.101-261124-0004"), commune="H40.101")
        await stats.deliver(received("H40.102-261124-0004"), commune="H40.102")
        units = stats.context.units
        everyone = 1 + len(units.communes) + len(units.departments)
        outbox = lambda: len(stats.documents.data.get("outbox", {}))  # noqa: E731
        job = asyncio.create_task(snapshots.publish(stats.runtime))
        try:
            await until(lambda: outbox() >= everyone, "a snapshot of every unit")
            first = {s.unit: s for s in await stats.emitted(StatsSnapshot)}
            await stats.deliver(received("H40.102-261124-0005"), commune="H40.102")
            await until(lambda: outbox() >= everyone + 2, "two more snapshots")
            second = await stats.emitted(StatsSnapshot)  # since the first round
        finally:
            job.cancel()
    assert len(first) == everyone
    assert (first[None].received, first[None].components, first["H40.101"].received) == (2, 6, 1)
    assert first[None].dossier_code == "province" and first["H40.102"].dossier_code == "H40.102"
    assert first["H40.101"].index_of == 2 and first["H40.101"].index_score is not None
    assert set(first["H40.101"].index_groups) == {"transparency", "progress", "online", "digitisation", "satisfaction"}
    assert [(s.unit, s.received) for s in second] == [(None, 3), ("H40.102", 2)]  # H40.101 did not change


async def test_a_fresh_generation_projected_from_the_same_events_holds_the_same_rows() -> None:
    """What a replay does (replay.py), without the broker: the events again, shuffled, into a new generation."""
    events = lifecycle()
    async with running() as stats:
        await deliver_all(stats, events)

        async def project(tx: Any) -> None:
            for chunk in range(0, len(events), 7):
                await store.FIGURES.project(tx, 2, random.Random(chunk).sample(events, len(events))[chunk : chunk + 7])
            await store.FIGURES.project(tx, 2, events)

        await stats.runtime.transact(project)
        data = stats.documents.data
    assert data["days.2"] == data["days.1"] and data["units.2"] == data["units.1"]


def test_a_snapshot_published_before_the_period_figures_still_parses() -> None:
    older = StatsSnapshot.model_validate(
        {
            "dossier_code": "province",
            "as_of": RECEIVED_AT,
            **dict.fromkeys(("received", "completed", "early", "on_time", "late", "online", "paid", "digitised"), 0),
        }
    )
    assert (older.fee_bearing, older.index_score, older.rates) == (0, None, {})


async def test_open_pages_hear_of_each_change_through_one_shared_look() -> None:
    async with running() as stats:
        changes = stats.context.changes
        first, second = changes.follow(keepalive_s=30), changes.follow(keepalive_s=30)
        heard = asyncio.gather(anext(first), anext(second))
        await asyncio.sleep(0.1)  # both follow before the dossier comes
        await stats.deliver(received("H40.105-261124-0001"), commune="H40.105")
        one, two = await asyncio.wait_for(heard, 10)
        third = changes.follow(keepalive_s=0.2)
        quiet = await anext(third)
        for follower in (first, second, third):
            await follower.aclose()
    assert one == two and one is not None and one["units"] == ["H40.105"]
    assert quiet is None  # nothing new: a keep-alive
