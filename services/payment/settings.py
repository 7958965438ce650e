from pydantic import Field, SecretStr, field_validator

from services.runtime import ServiceSettings
from services.runtime.clients import Network, networks
from services.runtime.settings import required

DEVELOPMENT_GATEWAY_URL = "http://127.0.0.1:8010"
DEVELOPMENT_GATEWAY_SECRET = "sandbox-secret"  # also the sandbox gateway's default (infra/gateway.py)
DEVELOPMENT_PARTNER_CODE = "MOTCUA"  # also the sandbox gateway's default
DEVELOPMENT_GATEWAY_ADDRESSES = "127.0.0.1/32"  # the sandbox gateway runs on the same machine


class PaymentSettings(ServiceSettings):
    http_port: int = 8003
    gateway_url: str | None = required(
        development=DEVELOPMENT_GATEWAY_URL, description="Base URL of the payment gateway's API (INIT)."
    )
    gateway_secret: SecretStr | None = required(
        development=DEVELOPMENT_GATEWAY_SECRET,
        description="Secret shared with the payment gateway; every message's checksum (HMAC-SHA512) is made with it.",
    )
    gateway_partner_code: str | None = required(
        development=DEVELOPMENT_PARTNER_CODE,
        description="The province's partner (merchant) code at the gateway; callbacks for another are refused.",
    )
    gateway_addresses: str | None = required(
        development=DEVELOPMENT_GATEWAY_ADDRESSES,
        description="Where the gateway's callbacks come from: comma-separated addresses or CIDR networks.",
    )
    gateway_name: str = Field(
        default="payment-platform", description="How `payment.requested` names the gateway, for consumers and reports."
    )
    gateway_timeout_s: float = Field(default=10.0, gt=0, description="How long a call to the gateway may take.")
    open_every_s: float = Field(
        default=0.5, gt=0, description="How often payment looks for payments to open at the gateway."
    )
    open_retry_s: float = Field(
        default=1.0, gt=0, description="First pause before opening a payment again after a failure; it doubles."
    )
    callback_max_age_s: float = Field(
        default=900.0, gt=0, description="How old a callback may be (by its time) and still be taken; older: a replay."
    )
    callback_clock_skew_s: float = Field(
        default=60.0, ge=0, description="How far ahead of payment's clock a callback's time may be (clock drift)."
    )

    @field_validator("gateway_addresses")
    @classmethod
    def _addresses_are_networks(cls, addresses: str | None) -> str | None:
        if addresses is not None and not networks(addresses):
            raise ValueError("names no address")
        return addresses  # networks() raised already if one is not an address or network

    @property
    def gateway_networks(self) -> tuple[Network, ...]:
        """The networks the gateway's callbacks may come from (always set: the settings refuse to start without)."""
        assert self.gateway_addresses is not None
        return networks(self.gateway_addresses)
