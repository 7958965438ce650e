import json
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator

from services.runtime import ServiceSettings
from services.runtime.settings import OfficialsTokens, PersonalDataKey, ReceiptTokens, ReferenceData, required

# The sandbox providers' development values (infra/messaging.py has the same defaults).
DEVELOPMENT_MESSAGING_URL = "http://127.0.0.1:8013"


class WebhookSubscription(BaseModel):
    """An integrator's endpoint: the milestones it wants, pushed with Standard Webhooks signatures."""

    name: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    url: str
    secret: str = Field(description="The Standard Webhooks secret, `whsec_` + base64.")
    milestones: list[str] = Field(default_factory=list, description="Milestones to push; empty: every one.")


class NotificationSettings(ServiceSettings, PersonalDataKey, ReceiptTokens, OfficialsTokens, ReferenceData):
    http_port: int = 8006
    public_url: str | None = required(
        development="http://127.0.0.1:8006",
        description="Notification's public address: survey and complaint links and providers' delivery reports "
        "start with it.",
    )
    tracking_url: str | None = required(
        development="http://127.0.0.1:8001",
        description="Intake's public address: messages link the dossier's tracking page (`/track/{code}`).",
    )
    signing_url: str | None = required(
        development="http://127.0.0.1:8005",
        description="Signing's public address: the result-ready message links the signed result.",
    )
    workspace_url: str = Field(
        default="http://127.0.0.1:8004/queue", description="Where officials' alerts send them (their work queue)."
    )
    # e-mail (SMTP)
    smtp_host: str = Field(default="127.0.0.1", description="The mail server that relays the platform's e-mail.")
    smtp_port: int = Field(default=8025, description="Its submission port.")
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user, when the server asks for one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (deployments: yes).")
    mail_from: str = Field(
        default="Bộ phận Một cửa <motcua@localhost>", description="Sender of the platform's e-mail (From:)."
    )
    # SMS brandname gateway
    sms_url: str | None = required(
        development=DEVELOPMENT_MESSAGING_URL, description="Base URL of the SMS brandname gateway's API."
    )
    sms_api_key: SecretStr | None = required(
        development="sandbox-sms-key", description="API key at the SMS brandname gateway."
    )
    sms_callback_secret: SecretStr | None = required(
        development="sandbox-sms-callback", description="Secret the SMS gateway signs its delivery reports with."
    )
    sms_brandname: str = Field(default="MOTCUA", description="The registered brandname messages are sent under.")
    sms_per_second: float = Field(default=20, gt=0, description="The SMS gateway's rate limit (messages/second).")
    # ZNS (Zalo-style template messages)
    zns_url: str | None = required(
        development=DEVELOPMENT_MESSAGING_URL, description="Base URL of the ZNS template-message API."
    )
    zns_access_token: SecretStr | None = required(
        development="sandbox-zns-token", description="The official account's access token at the ZNS API."
    )
    zns_app_id: str | None = required(development="motcua-oa", description="The ZNS application id (events name it).")
    zns_secret: SecretStr | None = required(
        development="sandbox-zns-secret", description="The official account's secret key: delivery events' MAC."
    )
    zns_per_second: float = Field(default=20, gt=0, description="The ZNS API's rate limit (messages/second).")
    # integrators' webhooks
    webhooks: str = Field(
        default="[]",
        description="Integrators' webhook subscriptions, JSON: [{name, url, secret, milestones}].",
    )
    # citizens' preferences and the delivery engine
    quiet_hours: str = Field(
        default="21:00-07:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$", description="No SMS or ZNS between these (local)."
    )
    send_every_s: float = Field(default=0.5, gt=0, description="How often the sender looks for due messages.")
    send_batch: int = Field(default=200, ge=1, description="Messages claimed at once.")
    send_lease_s: float = Field(default=60, gt=0, description="A claimed message is free again after this.")
    send_attempts: int = Field(default=8, ge=1, description="Tries before a transient failure counts as permanent.")
    send_retry_s: float = Field(default=2, gt=0, description="First retry's pause; it doubles each time.")
    # officials' alerts and complaints
    digest_at: str = Field(
        default="07:30", pattern=r"^\d\d:\d\d$", description="When leaders get the daily digest (local)."
    )
    complaint_answer_days: int = Field(
        default=10, ge=1, description="Working days a unit has to answer a complaint or petition."
    )
    jobs_every_s: float = Field(default=30, gt=0, description="How often complaint reminders and digests are due.")

    @field_validator("webhooks")
    @classmethod
    def _webhooks_are_subscriptions(cls, text: str) -> str:
        subscriptions(text)
        return text

    def subscriptions(self) -> list[WebhookSubscription]:
        return subscriptions(self.webhooks)


def subscriptions(text: str) -> list[WebhookSubscription]:
    rows: Any = json.loads(text or "[]")
    if not isinstance(rows, list):
        raise ValueError("webhooks must be a JSON list of subscriptions")
    return [WebhookSubscription.model_validate(row) for row in rows]
