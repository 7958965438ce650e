"""The payment gateway's protocol, shared by payment and the sandbox gateway: pinned here on
known messages, so a change to the scheme cannot slip through on both sides at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.payment import domain
from services.payment.gateway_protocol import Callback, InitRequest, gateway_time, parse_gateway_time

CALLBACK = {
    "partner_code": "MOTCUA",
    "reference": "PAY-X",
    "amount_vnd": 75000,
    "currency": "VND",
    "transaction_id": "T1",
    "error_code": "00",
    "time": "20261123090000",
}


def test_a_callbacks_checksum_is_sha256_of_its_fields_in_order_and_the_secret() -> None:
    # printf 'MOTCUA|PAY-X|75000|VND|T1|00|20261123090000|s3cret' | sha256sum
    signed = Callback.signed("s3cret", **CALLBACK)
    assert signed.checksum == "18181bb76c16c83ce34b10df49c721854f80cca1aa9b1091526bd2e536b05f09"


def test_an_init_requests_checksum_leaves_out_what_init_does_not_sign() -> None:
    # printf 'MOTCUA|PAY-H40.101-261123-0007|75000|VND|20261123090000|s3cret' | sha256sum
    request = InitRequest.signed(
        "s3cret",
        partner_code="MOTCUA",
        reference="PAY-H40.101-261123-0007",
        amount_vnd=75000,
        currency="VND",
        time="20261123090000",
    )
    assert request.checksum == "6d90e06b4e2c807a8b1ef4c60dc460fe59f90cb08eab700292ff536727e094a6"


def test_protocol_times_are_vietnam_time() -> None:
    assert gateway_time(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == "20261123090000"
    assert parse_gateway_time("20261123090000") == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_callback_is_for_us_only_with_our_partner_code_vnd_and_a_current_time() -> None:
    now, window = datetime(2026, 11, 23, 2, 0, tzinfo=UTC), timedelta(minutes=15)
    callback = Callback.signed("s3cret", **CALLBACK)
    assert domain.callback_problem(callback, "MOTCUA", now, window) is None
    assert domain.callback_problem(callback, "MOTCUA", now + timedelta(minutes=16), window)
    assert domain.callback_problem(callback, "ANOTHER", now, window)
    assert domain.callback_problem(callback.model_copy(update={"currency": "USD"}), "MOTCUA", now, window)


def test_a_reference_names_its_dossier() -> None:
    assert domain.reference_for("H40.101-261123-0007") == "PAY-H40.101-261123-0007"
    assert domain.dossier_code_of("PAY-H40.101-261123-0007") == "H40.101-261123-0007"
    assert domain.dossier_code_of("H40.101-261123-0007") is None
    assert domain.dossier_code_of("PAY-") is None
