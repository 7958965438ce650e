"""The event contracts: envelope, evolution rules, registry, AsyncAPI document."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from motcua_contracts import (
    ALL_TOPICS,
    EVENT_TOPICS,
    EVENT_TYPES,
    SERVICES,
    Applicant,
    DossierCompleted,
    DossierReceived,
    Envelope,
    SealedApplicant,
    UnknownEventType,
    new_event_id,
)
from motcua_contracts.access import CONSUMES, READER, grants
from motcua_contracts.asyncapi import render
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]

RECEIVED = {
    "dossier_code": "H40.101-261123-0001",
    "procedure_code": "1.001193",
    "procedure_name": "Đăng ký khai sinh",
    "field": "Hộ tịch",
    "channel": "counter",
    "commune_code": "H40.101",
    "applicant": {
        "key_id": "3f9a1c0b7d2e",
        "nonce": "AAAAAAAAAAAAAAAA",
        "ciphertext": "c2VhbGVk",
    },  # sealed: no name or phone in clear
    "components": [{"name": "Tờ khai", "form": "paper"}],
    "fee_vnd": 0,
    "receipt_number": "BN-H40.101-261123-0001",
    "received_at": "2026-11-23T02:00:00Z",
    "due_at": "2026-11-24T10:00:00Z",
}


def test_envelope_round_trips_with_typed_payload() -> None:
    payload = DossierReceived.model_validate(RECEIVED)
    envelope = Envelope.wrap(payload, source="intake", commune="H40.101")
    parsed = Envelope.model_validate_json(envelope.to_bytes())
    assert parsed.payload() == payload
    assert parsed.subject == "H40.101-261123-0001"
    assert parsed.correlation_id == parsed.id and parsed.causation_id is None


def test_caused_events_carry_correlation_and_causation() -> None:
    first = Envelope.wrap(DossierReceived.model_validate(RECEIVED), source="intake", commune="H40.101")
    completed = DossierCompleted(
        dossier_code=RECEIVED["dossier_code"],
        result_code="X-KQ1",
        completed_at="2026-11-23T03:00:00Z",
        due_at="2026-11-24T10:00:00Z",
        outcome="early",
    )
    second = Envelope.wrap(completed, source="routing", commune="H40.101", cause=first)
    assert second.correlation_id == first.id
    assert second.causation_id == first.id
    assert second.id > first.id


def test_old_consumer_accepts_fields_added_by_a_newer_producer() -> None:
    """Additive evolution: unknown envelope and payload fields are kept, not rejected."""
    newer = Envelope.wrap(DossierReceived.model_validate(RECEIVED), source="intake", commune="H40.101")
    wire = json.loads(newer.to_bytes())
    wire["priority"] = "high"
    wire["data"]["applicant"]["preferred_language"] = "vi"
    wire["data"]["urgent"] = True
    parsed = Envelope.model_validate(wire).payload()
    assert isinstance(parsed, DossierReceived)
    assert parsed.model_extra == {"urgent": True}


def test_new_consumer_accepts_events_from_an_older_producer() -> None:
    """Optional fields added later (the routing hints) default when absent."""
    payload = Envelope.wrap(DossierReceived.model_validate(RECEIVED), source="intake", commune="H40.101").payload()
    assert isinstance(payload, DossierReceived) and payload.workflow is None and payload.area is None


def test_a_dossier_received_from_before_sealing_is_still_read_with_its_applicant_in_clear() -> None:
    older = RECEIVED | {"applicant": {"name": "Nguyễn Thị Lan", "phone": "0912345678"}}
    payload = Envelope.wrap(DossierReceived.model_validate(older), source="intake", commune="H40.101").payload()
    assert isinstance(payload, DossierReceived) and isinstance(payload.applicant, Applicant)
    assert payload.applicant.phone == "0912345678"
    sealed = DossierReceived.model_validate(RECEIVED).applicant
    assert isinstance(sealed, SealedApplicant) and not isinstance(sealed, Applicant)


def test_bad_payload_and_unknown_type_are_refused() -> None:
    broken = Envelope(type="dossier.received", source="x", subject="c", commune="H40", correlation_id="1", data={})
    with pytest.raises(ValidationError):
        broken.payload()
    unknown = Envelope(type="dossier.teleported", source="x", subject="c", commune="H40", correlation_id="1", data={})
    with pytest.raises(UnknownEventType):
        unknown.payload()


def test_event_ids_are_unique_and_sortable_by_creation() -> None:
    ids = [new_event_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(i) == 26 for i in ids)


def test_registry_covers_every_event_and_topic() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    assert {model.TOPIC for model in EVENT_TYPES.values()} <= set(EVENT_TOPICS)
    # every owner publishes at least one event type on its topic
    for topic in EVENT_TOPICS:
        assert any(model.TOPIC == topic for model in EVENT_TYPES.values()), topic.name


def test_committed_asyncapi_document_is_up_to_date() -> None:
    committed = (ROOT / "contracts" / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: uv run python -m motcua_contracts.asyncapi > contracts/asyncapi.json"
    document = json.loads(committed)
    assert set(document["channels"]) == {t.name for t in ALL_TOPICS}
    assert {m["name"] for m in document["components"]["messages"].values()} == set(EVENT_TYPES)


def test_the_access_plan_lets_each_service_read_exactly_what_its_handlers_consume(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_PROFILE", "development")
    for service in SERVICES:
        handled = {event.TOPIC.name for event in importlib.import_module(f"services.{service}.app").create().handlers}
        assert {t.name for t in CONSUMES[service]} == handled, service
        readable = {
            g.name for g in grants() if g.principal == service and g.resource == "topic" and g.operation == "read"
        }
        assert readable == handled, service


def test_each_service_may_write_only_its_own_topics_and_the_reader_nothing() -> None:
    def allowed(principal: str, operation: str) -> set[str]:
        return {g.name for g in grants() if g.principal == principal and g.operation == operation}

    assert allowed("signing", "write") == {"motcua.signing.v1", "motcua.signing.dlq.v1"}
    assert allowed("signing", "read") == {"motcua.routing.v1", "signing"}  # the topic, and its consumer group
    assert allowed("routing", "write") == {"motcua.routing.v1", "motcua.routing.dlq.v1"}
    assert allowed(READER, "read") == {
        "motcua.intake.v1",
        "motcua.digitisation.v1",
        "motcua.payment.v1",
        "motcua.routing.v1",
        "motcua.signing.v1",
        "motcua.stats.v1",
        "reader.",
    }
    writes = {(g.principal, g.name) for g in grants() if g.operation == "write"}
    assert len(writes) == 2 * len(SERVICES) and all(name.startswith(f"motcua.{who}.") for who, name in writes)
    assert not any(g.principal == READER and g.operation == "write" for g in grants())
    assert "motcua.notification.v1" not in {g.name for g in grants() if g.principal == READER}
