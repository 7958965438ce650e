from __future__ import annotations

from motcua_contracts import DossierDigitised

from services.digitisation.app import create
from services.digitisation.settings import DigitisationSettings
from tests.harness import Harness

from .events import received


async def test_every_component_gets_an_electronic_copy_once() -> None:
    async with Harness.running(create(DigitisationSettings(profile="development"))) as digitisation:
        envelope = await digitisation.deliver(received("H40.101-261124-0001"))
        [digitised] = await digitisation.emitted()
        assert isinstance(digitised, DossierDigitised)
        assert [(c.name, c.origin) for c in digitised.components] == [
            ("Tờ khai", "uploaded"),
            ("Giấy tờ chứng minh chỗ ở", "scanned"),
            ("Giấy khai sinh", "reused"),
        ]
        # the same event again (a redelivery): no second copy, no second event
        await digitisation.deliver_raw(
            envelope.to_bytes(), DossierDigitised.TOPIC.name.replace("digitisation", "intake"), b"x"
        )
        assert await digitisation.emitted() == []
        stored = await digitisation.documents.find("documents", {"dossier_code": "H40.101-261124-0001"})
        assert len(stored) == 3


async def test_an_unreadable_event_is_dead_lettered_with_its_reason() -> None:
    async with Harness.running(create(DigitisationSettings(profile="development"))) as digitisation:
        await digitisation.deliver_raw(b"{not json", "motcua.intake.v1", b"garbage")
        assert [(key, reason.split(":")[0]) for key, reason in digitisation.dead_letters] == [
            (b"garbage", "malformed event")
        ]


async def test_metrics_count_what_the_service_handled() -> None:
    async with Harness.running(create(DigitisationSettings(profile="development"))) as digitisation:
        await digitisation.deliver(received("H40.101-261124-0002"))
        async with digitisation.http() as client:
            metrics = (await client.get("/metrics")).text
    assert 'motcua_events_handled_total{service="digitisation",type="dossier.received"} 1.0' in metrics
    assert 'faststream_received_messages_total{app_name="digitisation"' in metrics
