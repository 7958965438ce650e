"""Stats: counters for dashboards, each event counted once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

from motcua_contracts import (
    ComponentDigitised,
    DossierCompleted,
    DossierDigitised,
    DossierWithdrawn,
    Exemption,
    PaymentCompleted,
    PaymentExpired,
    PaymentNotRequired,
    PaymentRefunded,
    PaymentRequested,
    ResultArchived,
    ResultSigned,
    StatsSnapshot,
)

from services.stats.app import create, publish_snapshots
from services.stats.settings import StatsSettings
from tests.harness import Harness, until

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


async def test_digitisation_figures_per_unit_and_province() -> None:
    code = "H40.101-261124-0003"
    async with Harness.running(create(StatsSettings(profile="development"))) as stats:
        await stats.deliver(received(code), commune="H40.101")  # three components
        await stats.deliver(received("H40.102-261124-0009"), commune="H40.102")  # not digitised yet
        copy = {"sha256": "ab" * 32, "document_id": f"{code}-TP1"}
        await stats.deliver(
            DossierDigitised(
                dossier_code=code,
                components=[
                    ComponentDigitised(name="Tờ khai", origin="uploaded", **copy),
                    ComponentDigitised(name="Giấy tờ chứng minh chỗ ở", origin="scanned", **copy),
                    ComponentDigitised(name="Giấy khai sinh", origin="reused", **copy),
                ],
                digitised_at=AT,
                unit="H40.101",
                components_scanned=1,
                components_uploaded=1,
                components_reused=1,
            ),
            commune="H40.101",
        )
        signed = {"document_sha256": "cd" * 32, "signature": "c2ln", "algorithm": "PAdES-B-LT", "key_id": "0" * 16}
        await stats.deliver(ResultSigned(dossier_code=code, result_code=f"{code}-KQ1", signed_at=AT, **signed))
        await stats.deliver(
            ResultArchived(
                dossier_code=code,
                result_code=f"{code}-KQ1",
                document_id=f"{code}-KQ1",
                sha256="cd" * 32,
                archived_at=AT,
            )
        )
        async with stats.http() as client:
            summary = (await client.get("/stats/summary")).json()
            communes = {row["commune"]: row for row in (await client.get("/stats/communes")).json()}
    assert (summary["components"], summary["components_digitised"], summary["components_digitised_rate"]) == (
        6,
        3,
        50.0,
    )
    assert (summary["components_scanned"], summary["components_reused"]) == (1, 1)
    assert (summary["results"], summary["results_digitised"], summary["results_digitised_rate"]) == (1, 1, 100.0)
    assert communes["H40.101"]["components_digitised_rate"] == 100.0
    assert communes["H40.102"]["components_digitised_rate"] == 0.0


async def test_snapshots_of_the_province_and_of_each_unit_that_changed_are_published() -> None:
    async with Harness.running(create(StatsSettings(profile="development", snapshot_every_s=0.05))) as stats:
        await stats.deliver(received("H40.101-261124-0004"), commune="H40.101")
        await stats.deliver(received("H40.102-261124-0004"), commune="H40.102")
        job = asyncio.create_task(publish_snapshots(stats.runtime))
        try:
            await until(lambda: len(stats.documents.data.get("outbox", {})) >= 3, "three snapshots")
            first = {s.unit: s for s in await stats.emitted(StatsSnapshot)}
            await stats.deliver(received("H40.102-261124-0005"), commune="H40.102")
            await until(lambda: len(stats.documents.data.get("outbox", {})) >= 5, "two more snapshots")
            second = {s.unit: s for s in await stats.emitted(StatsSnapshot)}
        finally:
            job.cancel()
    assert set(first) == {None, "H40.101", "H40.102"}
    assert (first[None].received, first[None].components, first["H40.101"].received) == (2, 6, 1)
    assert first[None].dossier_code == "province" and first["H40.102"].dossier_code == "H40.102"
    assert set(second) == {None, "H40.102"}  # H40.101 did not change
    assert second["H40.102"].received == 2


async def test_payment_figures_per_unit_and_province() -> None:
    """Fee-bearing dossiers, how the paid ones were paid (the online share is of those paid),
    exemptions, expired links, refunds and the amounts."""
    a, b, c = (f"H40.101-261124-00{n}" for n in (11, 12, 13))
    d, exempt, free = (f"H40.102-261124-00{n}" for n in (14, 15, 16))
    exemption = Exemption(
        ground="social_protection", label="Đối tượng bảo trợ xã hội", reason="Thẻ BTXH 123", waived_vnd=20000
    )

    def completed(code: str, amount: int, channel: Literal["online", "counter"]) -> PaymentCompleted:
        gateway = {"gateway": "payment-platform", "method": "gateway"} if channel == "online" else {"method": "cash"}
        return PaymentCompleted(
            dossier_code=code,
            reference=f"PAY-{code}",
            amount_vnd=amount,
            gateway_transaction=f"T-{code}",
            paid_at=AT,
            channel=channel,
            receipt_number=f"BL-{code}",
            **gateway,
        )

    async with Harness.running(create(StatsSettings(profile="development", snapshot_every_s=0.05))) as stats:
        for code, amount in ((a, 20000), (b, 20000), (c, 50000), (d, 30000)):
            unit = code.split("-")[0]
            requested = PaymentRequested(
                dossier_code=code, reference=f"PAY-{code}", amount_vnd=amount, gateway="payment-platform"
            )
            await stats.deliver(requested, commune=unit)
        paid_a = await stats.deliver(completed(a, 20000, "online"), commune="H40.101")
        await stats.deliver_raw(paid_a.to_bytes(), PaymentCompleted.TOPIC.name, a.encode())  # redelivered
        await stats.deliver(completed(b, 20000, "online"), commune="H40.101")
        await stats.deliver(
            PaymentRefunded(
                dossier_code=b,
                reference=f"PAY-{b}",
                amount_vnd=20000,
                reason="dossier refused",
                gateway="payment-platform",
                gateway_transaction=f"T-{b}",
                refunded_at=AT,
            ),
            commune="H40.101",
        )
        await stats.deliver(
            PaymentExpired(dossier_code=c, reference=f"PAY-{c}", amount_vnd=50000, expired_at=AT), commune="H40.101"
        )
        await stats.deliver(completed(c, 50000, "counter"), commune="H40.101")  # paid at the counter after all
        await stats.deliver(completed(d, 30000, "online"), commune="H40.102")
        await stats.deliver(PaymentNotRequired(dossier_code=exempt, exemption=exemption), commune="H40.102")
        await stats.deliver(PaymentNotRequired(dossier_code=free), commune="H40.102")  # no fee: not fee-bearing
        async with stats.http() as client:
            summary = (await client.get("/stats/summary")).json()
            communes = {row["commune"]: row for row in (await client.get("/stats/communes")).json()}
        job = asyncio.create_task(publish_snapshots(stats.runtime))
        try:
            await until(lambda: len(stats.documents.data.get("outbox", {})) >= 3, "three snapshots")
        finally:
            job.cancel()
        snapshots = {s.unit: s for s in await stats.emitted(StatsSnapshot)}

    figures = ("fee_bearing", "fee_exempt", "paid", "paid_online", "paid_counter", "payments_expired", "refunded")
    amounts = ("collected_vnd", "refunded_vnd", "paid_online_rate")
    province = snapshots[None]
    assert [getattr(province, name) for name in figures] == [5, 1, 4, 3, 1, 1, 1]
    assert [getattr(province, name) for name in amounts] == [120000, 20000, 75.0]
    assert [getattr(snapshots["H40.101"], name) for name in figures] == [3, 0, 3, 2, 1, 1, 1]
    assert [getattr(snapshots["H40.101"], name) for name in amounts] == [90000, 20000, 66.67]
    assert [getattr(snapshots["H40.102"], name) for name in figures] == [2, 1, 1, 1, 0, 0, 0]
    assert [getattr(snapshots["H40.102"], name) for name in amounts] == [30000, 0, 100.0]
    # the HTTP read model says the same
    assert [summary[name] for name in (*figures, *amounts)] == [
        getattr(province, name) for name in (*figures, *amounts)
    ]
    assert communes["H40.102"]["paid_online_rate"] == 100.0


def test_a_snapshot_published_before_the_payment_figures_still_parses() -> None:
    older = StatsSnapshot.model_validate(
        {
            "dossier_code": "province",
            "as_of": AT,
            **dict.fromkeys(("received", "completed", "early", "on_time", "late", "online", "paid", "digitised"), 0),
        }
    )
    assert (older.fee_bearing, older.collected_vnd, older.paid_online_rate) == (0, 0, None)
