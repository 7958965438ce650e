"""Pure domain rules of the skeleton: codes, due dates, outcomes, checksums, signatures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.intake import domain as intake
from services.payment.gateways import platform as payment
from services.routing import domain as routing
from services.signing import domain as signing


def test_dossier_code_has_unit_date_and_four_digit_sequence() -> None:
    assert intake.dossier_code("H40.101", date(2026, 11, 23), 7) == "H40.101-261123-0007"


def test_outcome_compares_finishing_date_with_appointment_date() -> None:
    due = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 17:00 local
    assert routing.classify(datetime(2026, 11, 23, 3, tzinfo=UTC), due) == "early"
    assert routing.classify(datetime(2026, 11, 24, 9, tzinfo=UTC), due) == "on_time"
    assert routing.classify(datetime(2026, 11, 24, 16, 59, tzinfo=UTC), due) == "on_time"  # 23:59 local
    assert routing.classify(datetime(2026, 11, 24, 17, 1, tzinfo=UTC), due) == "late"  # 00:01 next day


def _routed(**facts: object) -> routing.Dossier:
    received_at = datetime(2026, 11, 23, 2, tzinfo=UTC)
    return routing.Dossier.model_validate({"_id": "C", "received_at": received_at, "due_at": received_at, **facts})


def test_dossier_waits_for_digitisation_and_fee_before_a_decision() -> None:
    dossier = _routed(digitised=True, payment_requested=True)
    assert not dossier.ready_for_decision
    assert dossier.waiting_for() == ["payment"]
    assert _routed(digitised=True, payment_requested=True, fee_settled=True).ready_for_decision


def _callback(**changes: object) -> payment.Callback:
    fields = {
        "partner_code": "MOTCUA",
        "reference": "PAY-X",
        "amount_vnd": 75000,
        "transaction_id": "T1",
        "error_code": "00",
        "time": "20261123090000",
    }
    signed = payment.Callback.signed("s3cret", **fields)
    return signed.model_copy(update=changes)


def test_gateway_checksum_verifies_and_detects_tampering() -> None:
    assert _callback().verify("s3cret")
    assert not _callback().verify("other-secret")
    assert not _callback(amount_vnd=1000).verify("s3cret")
    assert not _callback(checksum="ế" * 64).verify("s3cret")  # not even hex: refused, no crash


def test_result_codes_name_their_dossier() -> None:
    assert signing.result_code("C-1", 2) == "C-1-KQ2"
    assert signing.dossier_of("H40.101-261124-0001-KQ1") == "H40.101-261124-0001"
    assert signing.dossier_of("H40.101-261124-0001") is None
    assert signing.dossier_of("X-KQ1a") is None


def test_a_dossier_waiting_for_a_supplement_is_not_decided_and_a_withdrawn_one_is() -> None:
    ready = {"digitised": True, "fee_settled": True}
    assert _routed(**ready).ready_for_decision
    waiting = _routed(**ready, waiting_for_supplement=True, status=routing.WAITING_FOR_SUPPLEMENT)
    assert not waiting.ready_for_decision and not waiting.decided
    assert "supplement" in waiting.waiting_for()
    assert _routed(**ready, status=routing.WITHDRAWN).decided
