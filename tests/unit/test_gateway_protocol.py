"""The payment gateway's protocol, shared by payment and the sandbox gateway: pinned here on
known messages, so a change to the scheme cannot slip through on both sides at once."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from services.payment import domain
from services.payment.gateway_protocol import (
    Callback,
    InitRequest,
    QueryRequest,
    canonical,
    gateway_time,
    parse_gateway_time,
)

CALLBACK = {
    "partner_code": "MOTCUA",
    "reference": "PAY-X",
    "amount_vnd": 75000,
    "currency": "VND",
    "transaction_id": "T1",
    "error_code": "00",
    "time": "20261123090000",
}
# the callback's fields sorted by name, as name=value joined with "&"; the checksum itself left out
CALLBACK_CANONICAL = "amount_vnd=75000&currency=VND&error_code=00&partner_code=MOTCUA&reference=PAY-X&time=20261123090000&transaction_id=T1"


def test_a_callbacks_checksum_is_hmac_sha512_of_its_canonical_encoding() -> None:
    signed = Callback.signed("s3cret", **CALLBACK)
    assert canonical(signed.model_dump()) == CALLBACK_CANONICAL
    assert signed.checksum == hmac.new(b"s3cret", CALLBACK_CANONICAL.encode(), hashlib.sha512).hexdigest()
    # printf '<CALLBACK_CANONICAL>' | openssl dgst -sha512 -hmac s3cret
    assert signed.checksum == (
        "2b656315881c51910ddaa66dd8c60ec9befe81f8875e0aad5361c5a8b39cd5d1"
        "0dd48065c48585bc13e201263298c6530ab530d760abc134cef4451546f8ca91"
    )
    assert signed.verify("s3cret") and not signed.verify("S3cret")


def test_an_init_requests_checksum_covers_all_its_fields() -> None:
    request = InitRequest.signed(
        "s3cret",
        partner_code="MOTCUA",
        reference="PAY-H40.101-261123-0007",
        amount_vnd=75000,
        currency="VND",
        time="20261123090000",
    )
    # printf 'amount_vnd=75000&currency=VND&partner_code=MOTCUA&reference=PAY-H40.101-261123-0007&time=20261123090000'
    #   | openssl dgst -sha512 -hmac s3cret
    assert request.checksum == (
        "7e0202ef59cd1839104da34c9f1f76c660a1d313be7d2931d8a0bb8a61667514"
        "76c4e647e9f2af567ffb3363fa2d816196ffc4be5db73bf369ba8741c8ba6583"
    )
    assert not request.model_copy(update={"currency": "USD"}).verify("s3cret")


def test_the_canonical_encoding_escapes_what_would_run_into_the_next_field() -> None:
    # without escaping, a value holding "&" could pass for two fields and sign a different message
    assert canonical({"b": "x y&c=1", "a": 5, "checksum": "ignored"}) == "a=5&b=x+y%26c%3D1"
    honest = QueryRequest.signed("s3cret", partner_code="MOTCUA", reference="PAY-X&time=1", time="20261123090000")
    forged = honest.model_copy(update={"reference": "PAY-X", "time": "1&time=20261123090000"})
    assert honest.verify("s3cret") and not forged.verify("s3cret")


def test_a_checksum_in_the_old_scheme_or_not_even_hex_is_refused_without_a_crash() -> None:
    old = hashlib.sha256("|".join([*map(str, CALLBACK.values()), "s3cret"]).encode()).hexdigest()
    assert not Callback.model_validate(CALLBACK | {"checksum": old}).verify("s3cret")
    assert not Callback.model_validate(CALLBACK | {"checksum": "ế" * 64}).verify("s3cret")


def test_protocol_times_are_vietnam_time() -> None:
    assert gateway_time(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == "20261123090000"
    assert parse_gateway_time("20261123090000") == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_callback_is_for_us_only_with_our_partner_code_vnd_and_a_current_time() -> None:
    sent = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # the callback's time, 09:00 in Vietnam
    max_age, skew = timedelta(minutes=15), timedelta(minutes=1)
    callback = Callback.signed("s3cret", **CALLBACK)

    def problem(now: datetime, partner: str = "MOTCUA", message: Callback = callback) -> str | None:
        found = domain.callback_problem(message, partner, now, max_age, skew)
        return found and found.reason

    assert problem(sent) is None
    assert problem(sent + timedelta(minutes=14)) is None
    assert problem(sent + timedelta(minutes=16)) == "time"  # too old: a replay
    assert problem(sent - timedelta(seconds=50)) is None  # the gateway's clock a little ahead
    assert problem(sent - timedelta(minutes=5)) == "time"  # from the future
    assert problem(sent, partner="ANOTHER") == "partner"
    assert problem(sent, message=callback.model_copy(update={"currency": "USD"})) == "currency"


def test_a_reference_names_its_dossier() -> None:
    assert domain.reference_for("H40.101-261123-0007") == "PAY-H40.101-261123-0007"
    assert domain.dossier_code_of("PAY-H40.101-261123-0007") == "H40.101-261123-0007"
    assert domain.dossier_code_of("H40.101-261123-0007") is None
    assert domain.dossier_code_of("PAY-") is None
