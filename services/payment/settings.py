from pydantic import Field, SecretStr, field_validator

from services.runtime import ServiceSettings
from services.runtime.clients import Network, networks
from services.runtime.settings import (
    OfficialsTokens,
    PdfForms,
    PersonalDataKey,
    ReceiptTokens,
    ReferenceData,
    Workers,
    required,
)

DEVELOPMENT_GATEWAY_URL = "http://127.0.0.1:8010"
DEVELOPMENT_GATEWAY_SECRET = "sandbox-secret"  # also the sandbox gateway's default (infra/gateway.py)
DEVELOPMENT_HMAC_SECRET = "sandbox-hmac-secret"  # also the sandbox gateway's default
DEVELOPMENT_PARTNER_CODE = "MOTCUA"  # also the sandbox gateway's default (partner code and terminal code)
DEVELOPMENT_GATEWAY_ADDRESSES = "127.0.0.1/32"  # the sandbox gateway runs on the same machine


class PaymentSettings(
    ServiceSettings, ReceiptTokens, OfficialsTokens, PdfForms, Workers, ReferenceData, PersonalDataKey
):
    http_port: int = 8003
    public_url: str | None = required(
        development="http://127.0.0.1:8003",
        description="Payment's public address: the payment page's links and the gateways' return address start with it.",
    )
    gateway_url: str | None = required(
        development=DEVELOPMENT_GATEWAY_URL,
        description="Base URL of the national payment platform's API (INIT, QUERY, REFUND).",
    )
    gateway_secret: SecretStr | None = required(
        development=DEVELOPMENT_GATEWAY_SECRET,
        description="Secret shared with the national payment platform: every message's checksum is made with it.",
    )
    gateway_partner_code: str | None = required(
        development=DEVELOPMENT_PARTNER_CODE,
        description="The province's partner (merchant) code at the platform; notifications for another are refused.",
    )
    hmac_gateway_url: str | None = required(
        development=DEVELOPMENT_GATEWAY_URL,
        description="Base URL of the card and wallet gateway (sorted-parameter HMAC-SHA512 protocol), "
        "as payment reaches its API and the citizen's browser its pages.",
    )
    hmac_gateway_secret: SecretStr | None = required(
        development=DEVELOPMENT_HMAC_SECRET,
        description="The card and wallet gateway's hash secret (HMAC-SHA512 key).",
    )
    hmac_gateway_terminal: str | None = required(
        development=DEVELOPMENT_PARTNER_CODE,
        description="The province's terminal (merchant) code at the card and wallet gateway.",
    )
    gateway_addresses: str | None = required(
        development=DEVELOPMENT_GATEWAY_ADDRESSES,
        description="Where the gateways' notifications come from: comma-separated addresses or CIDR networks.",
    )
    transfer_bank_bin: str | None = required(
        development="970415",
        description="The collecting account's bank (its 6-digit NAPAS BIN), for the bank-transfer QR (VietQR).",
    )
    transfer_account: str | None = required(
        development="113366668888", description="The collecting account's number, for the bank-transfer QR."
    )
    transfer_account_name: str = Field(
        default="KHO BAC NHA NUOC - TAI KHOAN THU PHI, LE PHI", description="The account's name, shown by the QR."
    )
    finance_officials: str = Field(
        default="",
        description="Officials (ids, comma-separated) who may reconcile gateway statements (đối soát).",
    )
    receipt_series_prefix: str = Field(
        default="BL", pattern=r"^[A-Z]{1,4}$", description="Electronic receipts' series: <prefix><yy>E, per unit."
    )
    payment_window_h: float = Field(
        default=72, gt=0, description="How long a fee can be paid online when the dossier does not say (pay_by)."
    )
    gateway_name: str = Field(
        default="payment-platform", description="How `payment.requested` names the gateway, for consumers and reports."
    )
    gateway_timeout_s: float = Field(default=10.0, gt=0, description="How long a call to a gateway may take.")
    open_every_s: float = Field(
        default=0.5, gt=0, description="How often payment's jobs look for payments to open, expire, query or refund."
    )
    open_retry_s: float = Field(
        default=1.0, gt=0, description="First pause before calling a gateway again after a failure; it doubles."
    )
    query_after_s: float = Field(
        default=1800, gt=0, description="An order without a final notification this long after it opened is queried."
    )
    query_every_s: float = Field(default=600, gt=0, description="How often such an order is queried again.")
    query_until_s: float = Field(
        default=3 * 86400, gt=0, description="How long after opening an order is queried; then left to reconciliation."
    )
    callback_max_age_s: float = Field(
        default=900.0,
        gt=0,
        description="How old a notification may be (by its time) and still be taken; older: a replay.",
    )
    callback_clock_skew_s: float = Field(
        default=60.0, ge=0, description="How far ahead of payment's clock a notification's time may be (clock drift)."
    )

    @field_validator("gateway_addresses")
    @classmethod
    def _addresses_are_networks(cls, addresses: str | None) -> str | None:
        if addresses is not None and not networks(addresses):
            raise ValueError("names no address")
        return addresses  # networks() raised already if one is not an address or network

    @property
    def gateway_networks(self) -> tuple[Network, ...]:
        """The networks the gateways' notifications may come from (always set: the settings refuse to start without)."""
        assert self.gateway_addresses is not None
        return networks(self.gateway_addresses)

    @property
    def finance(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.finance_officials.split(",") if o.strip())
