"""Stats: counters for dashboards, each event counted once."""

from __future__ import annotations

from datetime import UTC, datetime

from motcua_contracts import DossierCompleted, DossierWithdrawn, PaymentCompleted

from services.stats.app import create
from services.stats.settings import StatsSettings
from tests.harness import Harness

from .events import received

AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


async def test_counters_per_commune_and_province_count_each_event_once() -> None:
    async with Harness.running(create(StatsSettings(profile="development"))) as stats:
        await stats.deliver(received("H40.101-261124-0001", channel="online_full"), commune="H40.101")
        await stats.deliver(received("H40.102-261124-0001", channel="counter"), commune="H40.102")
        done = await stats.deliver(
            DossierCompleted(
                dossier_code="H40.101-261124-0001", result_code="K", completed_at=AT, due_at=AT, outcome="early"
            ),
            commune="H40.101",
        )
        await stats.deliver_raw(done.to_bytes(), DossierCompleted.TOPIC.name, b"H40.101-261124-0001")  # redelivered
        await stats.deliver(
            PaymentCompleted(
                dossier_code="H40.101-261124-0001", reference="r", amount_vnd=20000, gateway_transaction="T", paid_at=AT
            ),
            commune="H40.101",
        )
        await stats.deliver(
            DossierWithdrawn(dossier_code="H40.102-261124-0001", reason="x", withdrawn_at=AT), commune="H40.102"
        )
        async with stats.http() as client:
            summary = (await client.get("/stats/summary")).json()
            communes = {row["commune"]: row for row in (await client.get("/stats/communes")).json()}
    assert (summary["received"], summary["online"], summary["completed"], summary["early"]) == (2, 1, 1, 1)
    assert (summary["paid"], summary["withdrawn"], summary["online_rate"]) == (1, 1, 50.0)
    assert (communes["H40.101"]["completed"], communes["H40.102"]["withdrawn"]) == (1, 1)
