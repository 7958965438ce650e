"""The gateways' protocols, shared by payment and the sandbox gateway: pinned here on known
messages, so a change to a scheme cannot slip through on both sides at once.

- the national payment platform's: SHA-256 (hex) of the message's other field values in the
  order it declares them, joined with "|", then "|" and the shared secret;
- the card gateway's: HMAC-SHA512 (hex) keyed with the secret over the non-empty parameters but
  the hash, sorted by name, URL-encoded with quote_plus and joined with "&"."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from services.payment import domain
from services.payment.gateways import NotificationRefused
from services.payment.gateways import sorted_hmac as card
from services.payment.gateways.platform import (
    Callback,
    InitRequest,
    PlatformGateway,
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
# the callback's values in the order the message declares its fields, joined with "|"; the checksum left out
CALLBACK_CANONICAL = "MOTCUA|PAY-X|75000|VND|T1|00|20261123090000"


def test_a_callbacks_checksum_is_sha256_of_its_values_in_order_then_the_secret() -> None:
    signed = Callback.signed("s3cret", **CALLBACK)
    assert canonical(signed.model_dump()) == CALLBACK_CANONICAL
    assert signed.checksum == hashlib.sha256(f"{CALLBACK_CANONICAL}|s3cret".encode()).hexdigest()
    # printf 'MOTCUA|PAY-X|75000|VND|T1|00|20261123090000|s3cret' | sha256sum
    assert signed.checksum == "18181bb76c16c83ce34b10df49c721854f80cca1aa9b1091526bd2e536b05f09"
    assert signed.verify("s3cret") and not signed.verify("S3cret")


def test_the_order_is_the_messages_not_the_callers() -> None:
    backwards = dict(reversed(CALLBACK.items()))
    assert Callback.signed("s3cret", **backwards).checksum == Callback.signed("s3cret", **CALLBACK).checksum


def test_an_init_requests_checksum_covers_all_its_fields_in_order() -> None:
    request = InitRequest.signed(
        "s3cret",
        partner_code="MOTCUA",
        reference="PAY-H40.101-261123-0007",
        amount_vnd=75000,
        currency="VND",
        description="Thanh toan phi, le phi ho so H40.101-261123-0007",
        expire_time="20261126090000",
        time="20261123090000",
    )
    joined = (
        "MOTCUA|PAY-H40.101-261123-0007|75000|VND|Thanh toan phi, le phi ho so H40.101-261123-0007"
        "|20261126090000|20261123090000"
    )
    assert canonical(request.model_dump()) == joined
    assert request.checksum == hashlib.sha256(f"{joined}|s3cret".encode()).hexdigest()
    assert request.checksum == "2af00b4642a61698471f1df04619bbf1941ac9ce664951133dcadb832861af63"
    assert not request.model_copy(update={"currency": "USD"}).verify("s3cret")
    assert not request.model_copy(update={"expire_time": "20261226090000"}).verify("s3cret")


def test_a_value_holding_the_separator_is_refused_so_fields_cannot_be_shifted() -> None:
    # "x|20261126090000" + "" and "x" + "20261126090000|" join to the same text: the same checksum
    # would sign another expiry. A message with "|" in a value is not a message of the protocol.
    with pytest.raises(ValidationError, match="separates the fields"):
        InitRequest.signed(
            "s3cret",
            partner_code="MOTCUA",
            reference="PAY-X",
            amount_vnd=1,
            description="x|20261126090000",
            time="20261123090000",
        )
    with pytest.raises(ValidationError, match="separates the fields"):
        Callback.model_validate(CALLBACK | {"transaction_id": "T1|00", "checksum": "0" * 64})
    honest = QueryRequest.signed("s3cret", partner_code="MOTCUA", reference="PAY-X", time="20261123090000")
    assert not honest.model_copy(update={"reference": "PAY-Y"}).verify("s3cret")


def test_a_checksum_in_the_old_scheme_or_not_even_hex_is_refused_without_a_crash() -> None:
    old_canonical = "&".join(f"{name}={value}" for name, value in sorted(CALLBACK.items()))
    old = hmac.new(b"s3cret", old_canonical.encode(), hashlib.sha512).hexdigest()  # sorted params, HMAC-SHA512
    assert not Callback.model_validate(CALLBACK | {"checksum": old}).verify("s3cret")
    assert not Callback.model_validate(CALLBACK | {"checksum": "ế" * 64}).verify("s3cret")


def test_protocol_times_are_vietnam_time() -> None:
    assert gateway_time(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)) == "20261123090000"
    assert parse_gateway_time("20261123090000") == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def platform() -> Iterator[PlatformGateway]:
    yield PlatformGateway(
        httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(500))), "s3cret", "MOTCUA"
    )


def test_a_callback_is_for_us_only_with_our_partner_code_vnd_and_a_current_time(platform: PlatformGateway) -> None:
    sent = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # the callback's time, 09:00 in Vietnam
    max_age, skew = timedelta(minutes=15), timedelta(minutes=1)

    def problem(now: datetime, **changes: object) -> str | None:
        body = Callback.signed("s3cret", **(CALLBACK | changes)).model_dump_json().encode()
        try:
            platform.read_notification(body, now, max_age, skew)
        except NotificationRefused as refused:
            return refused.reason
        return None

    assert problem(sent) is None
    assert problem(sent + timedelta(minutes=14)) is None
    assert problem(sent + timedelta(minutes=16)) == "time"  # too old: a replay
    assert problem(sent - timedelta(seconds=50)) is None  # the gateway's clock a little ahead
    assert problem(sent - timedelta(minutes=5)) == "time"  # from the future
    assert problem(sent, partner_code="ANOTHER") == "partner"
    assert problem(sent, currency="USD") == "currency"
    forged = Callback.signed("guessed", **CALLBACK).model_dump_json().encode()
    with pytest.raises(NotificationRefused) as refused:
        platform.read_notification(forged, sent, max_age, skew)
    assert (refused.value.status, refused.value.reason) == (401, "checksum")


def test_a_platform_notice_says_success_only_for_error_code_00(platform: PlatformGateway) -> None:
    now, age = datetime(2026, 11, 23, 2, 0, tzinfo=UTC), timedelta(minutes=15)
    paid = platform.read_notification(Callback.signed("s3cret", **CALLBACK).model_dump_json().encode(), now, age, age)
    assert (paid.gateway, paid.reference, paid.amount_vnd, paid.state, paid.transaction_id) == (
        "payment-platform",
        "PAY-X",
        75000,
        "success",
        "T1",
    )
    cancelled = Callback.signed("s3cret", **(CALLBACK | {"error_code": "24"})).model_dump_json().encode()
    assert platform.read_notification(cancelled, now, age, age).state == "failed"


# --- the card gateway's sorted-parameter HMAC-SHA512 ------------------------------------------------

PAY_ORDER = {
    "vnp_Version": "2.1.0",
    "vnp_Command": "pay",
    "vnp_TmnCode": "MOTCUA",
    "vnp_Amount": "7500000",  # hundredths of a dong: 75,000 VND
    "vnp_CurrCode": "VND",
    "vnp_TxnRef": "PAY-H40.101-261123-0007-2",
    "vnp_OrderInfo": "Thanh toan phi, le phi ho so H40.101-261123-0007",
    "vnp_ReturnUrl": "http://payment/pay/H40.101-261123-0007?token=a-b_c",
    "vnp_BankCode": "",  # empty: left out
    "vnp_SecureHashType": "HmacSHA512",  # never signed
}
# sorted by name, quote_plus-encoded (space "+", "," "%2C", ":" "%3A", "/" "%2F", "?" "%3F", "=" "%3D")
PAY_ORDER_CANONICAL = (
    "vnp_Amount=7500000&vnp_Command=pay&vnp_CurrCode=VND"
    "&vnp_OrderInfo=Thanh+toan+phi%2C+le+phi+ho+so+H40.101-261123-0007"
    "&vnp_ReturnUrl=http%3A%2F%2Fpayment%2Fpay%2FH40.101-261123-0007%3Ftoken%3Da-b_c"
    "&vnp_TmnCode=MOTCUA&vnp_TxnRef=PAY-H40.101-261123-0007-2&vnp_Version=2.1.0"
)


def test_the_card_signature_is_hmac_sha512_of_the_sorted_url_encoded_non_empty_parameters() -> None:
    assert card.canonical(PAY_ORDER) == PAY_ORDER_CANONICAL
    expected = hmac.new(b"s3cret", PAY_ORDER_CANONICAL.encode(), hashlib.sha512).hexdigest()
    assert card.signature(PAY_ORDER, "s3cret") == expected
    # printf '<PAY_ORDER_CANONICAL>' | openssl dgst -sha512 -hmac s3cret
    assert expected == (
        "9dc81b76ecd8c2928eb53879e5f4cfceca22a897fd6bb9102eb7c0dcbfd1a384"
        "6fe0eab7e7aa4f9de796f3b54db6186b00bf25c5fcf3b48fcd2a14b9c0deba6a"
    )
    signed = card.signed(PAY_ORDER, "s3cret")
    assert signed[card.HASH] == expected and card.verified(signed, "s3cret")
    assert not card.verified(signed, "S3cret")
    assert not card.verified(signed | {"vnp_Amount": "750000"}, "s3cret")
    assert card.verified(signed | {"vnp_SecureHashType": "SHA512"}, "s3cret")  # not covered
    assert not card.verified({k: v for k, v in signed.items() if k != card.HASH}, "s3cret")


def test_the_card_encoding_escapes_what_would_run_into_the_next_parameter() -> None:
    assert card.canonical({"b": "x y&c=1", "a": "5", "vnp_SecureHash": "ignored", "e": ""}) == "a=5&b=x+y%26c%3D1"
    honest = card.signed({"vnp_TxnRef": "PAY-X&vnp_Amount=1", "vnp_Amount": "100"}, "s3cret")
    forged = honest | {"vnp_TxnRef": "PAY-X", "vnp_Amount": "1&vnp_Amount=100"}
    assert not card.verified(forged, "s3cret")


def card_ipn(**changes: str) -> dict[str, str]:
    params = {
        "vnp_TmnCode": "MOTCUA",
        "vnp_Amount": "7500000",
        "vnp_CurrCode": "VND",
        "vnp_BankCode": "NCB",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": "Thanh toan PAY-X",
        "vnp_PayDate": "20261123090000",
        "vnp_ResponseCode": "00",
        "vnp_TransactionNo": "14012345",
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": "PAY-X-2",
    }
    return card.signed(params | changes, "s3cret")


def test_a_card_notification_is_read_and_checked() -> None:
    gateway = card.SortedHmacGateway(httpx.AsyncClient(), "s3cret", "MOTCUA", "http://gateway")
    now, skew = datetime(2026, 11, 23, 2, 0, tzinfo=UTC), timedelta(minutes=1)
    paid = gateway.read_notification(card_ipn(), now, skew)
    assert (paid.gateway, paid.reference, paid.amount_vnd, paid.state, paid.transaction_id, paid.method) == (
        "card-gateway",
        "PAY-X-2",
        75000,
        "success",
        "14012345",
        "gateway",
    )
    assert gateway.read_notification(card_ipn(vnp_CardType="QRCODE"), now, skew).method == "bank_transfer"
    assert gateway.read_notification(card_ipn(vnp_ResponseCode="24"), now, skew).state == "failed"
    # the pay date repeats on every attempt: an old one is taken, one ahead of us is not
    assert gateway.read_notification(card_ipn(), now + timedelta(days=2), skew).state == "success"

    def refused(params: dict[str, str], at: datetime = now) -> tuple[int, str]:
        with pytest.raises(NotificationRefused) as caught:
            gateway.read_notification(params, at, skew)
        return caught.value.status, caught.value.reason

    assert refused(card_ipn(), now - timedelta(minutes=5)) == (400, "time")
    assert refused(card_ipn() | {"vnp_Amount": "750000"}) == (401, "checksum")
    assert refused(card_ipn(vnp_TmnCode="ANOTHER")) == (400, "partner")
    assert refused(card_ipn(vnp_CurrCode="USD")) == (400, "currency")
    assert refused(card_ipn(vnp_Amount="7500050")) == (422, "malformed")  # not whole dong
    assert refused(card_ipn(vnp_TransactionNo="")) == (422, "malformed")
    assert refused({"vnp_TxnRef": "PAY-X-2"}) == (422, "malformed")
    assert refused(card_ipn() | {f"x{n}": "1" for n in range(40)}) == (422, "malformed")


def test_a_card_transactions_state_is_its_response_and_status_codes() -> None:
    assert card.state_of("00", "00") == "success"
    assert card.state_of("00", "01") == "pending"
    assert card.state_of("00", "02") == "failed"
    assert card.state_of("24", "02") == "failed"
    assert card.state_of("24", "00") == "failed"


def test_a_reference_names_its_dossier_and_order() -> None:
    assert domain.reference_for("H40.101-261123-0007") == "PAY-H40.101-261123-0007"
    assert domain.reference_for("H40.101-261123-0007", 2) == "PAY-H40.101-261123-0007-2"
    assert domain.dossier_code_of("PAY-H40.101-261123-0007") == "H40.101-261123-0007"
    assert domain.dossier_code_of("PAY-H40.101-261123-0007-2") == "H40.101-261123-0007"
    assert domain.dossier_code_of("H40.101-261123-0007") is None
    assert domain.dossier_code_of("PAY-") is None
