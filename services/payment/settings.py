from pydantic import Field, SecretStr

from services.runtime import ServiceSettings
from services.runtime.settings import required

DEVELOPMENT_GATEWAY_URL = "http://127.0.0.1:8010"
DEVELOPMENT_GATEWAY_SECRET = "sandbox-secret"  # also the sandbox gateway's default (infra/gateway.py)
DEFAULT_PARTNER_CODE = "MOTCUA"


class PaymentSettings(ServiceSettings):
    http_port: int = 8003
    gateway_url: str | None = required(
        development=DEVELOPMENT_GATEWAY_URL, description="Base URL of the payment gateway's API (INIT)."
    )
    gateway_secret: SecretStr | None = required(
        development=DEVELOPMENT_GATEWAY_SECRET,
        description="Secret shared with the payment gateway; every message's checksum is made with it.",
    )
    gateway_name: str = Field(
        default="payment-platform", description="How `payment.requested` names the gateway, for consumers and reports."
    )
    gateway_partner_code: str = Field(
        default=DEFAULT_PARTNER_CODE, description="The province's partner (merchant) code at the gateway."
    )
    gateway_timeout_s: float = Field(default=10.0, gt=0, description="How long a call to the gateway may take.")
    open_every_s: float = Field(
        default=0.5, gt=0, description="How often payment looks for payments to open at the gateway."
    )
    open_retry_s: float = Field(
        default=1.0, gt=0, description="First pause before opening a payment again after a failure; it doubles."
    )
    callback_window_s: float = Field(
        default=900.0, gt=0, description="How far a callback's time may be from payment's clock (replays, drift)."
    )
