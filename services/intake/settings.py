"""Intake's settings: the shared concerns it uses (units and calendar, PDF forms, worker
processes, the receipt-token key) plus its own knobs. The identity-hash key, the receipt-token
key, the public address and payment's public address must be chosen by a deployment: without
them intake refuses to start outside the development profile."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from services.runtime import ServiceSettings
from services.runtime.receipts import COMPLAINT, NOTICES, link_token, pay_token
from services.runtime.settings import PdfForms, PersonalDataKey, ReceiptTokens, ReferenceData, Workers, required

SAMPLE_CATALOGUE = Path(__file__).parent / "data" / "procedures.json"


class IntakeSettings(ServiceSettings, ReferenceData, PdfForms, Workers, ReceiptTokens, PersonalDataKey):
    http_port: int = 8001
    identity_hash_key: SecretStr | None = required(
        development="development-identity-hash-key",
        description="Key of the keyed hash (HMAC) under which identity numbers are stored for owner checks.",
    )
    public_url: str | None = required(
        development="http://127.0.0.1:8001",
        description="Public address of intake's tracking page, printed as a QR code on receipt slips.",
    )
    payment_url: str | None = required(
        development="http://127.0.0.1:8003",
        description="Public address of payment's pages: receipts link each fee's payment page there.",
    )
    notification_url: str | None = required(
        development="http://127.0.0.1:8006",
        description="Public address of notification's pages: the tracking page links the owner's complaint "
        "form and choice of channels there.",
    )
    payment_window_hours: int = Field(
        default=72, ge=1, le=24 * 90, description="How long a fee can be paid online after receipt (hours)."
    )
    catalogue_file: str = Field(
        default=str(SAMPLE_CATALOGUE), description="The province's procedure catalogue (JSON), loaded when new."
    )
    tracking_per_minute: int = Field(
        default=20, ge=1, description="Owner look-ups (tracking, supplement, withdrawal) per client address and minute."
    )
    max_submissions_in_flight: int = Field(
        default=16, ge=1, description="Submissions one process works on at once; more wait `submission_wait_s`."
    )
    submission_wait_s: float = Field(
        default=1.0, ge=0, le=10, description="How long a submission waits for its turn before a 503 (busy)."
    )

    def hash_key(self) -> bytes:
        """The identity-hash key, for the HMACs that need it (never logged)."""
        assert self.identity_hash_key is not None  # the settings check fills it or refuses to start
        return self.identity_hash_key.get_secret_value().encode()

    def tracking_url(self, dossier_code: str) -> str:
        """Where a receipt's QR code leads: the tracking page with the code filled in."""
        return f"{self.public_url}/track?code={dossier_code}"

    def pay_url(self, dossier_code: str) -> str:
        """The dossier's payment page at payment, with the pay token that opens it (and nothing else)."""
        return f"{self.payment_url}/pay/{dossier_code}?token={pay_token(self.receipt_key(), dossier_code)}"

    def complaint_url(self, dossier_code: str) -> str:
        """The owner's complaint form (phản ánh, kiến nghị) at notification, with its token."""
        token = link_token(self.receipt_key(), COMPLAINT, dossier_code)
        return f"{self.notification_url}/complaints/{dossier_code}/new?token={token}"

    def preferences_url(self, dossier_code: str) -> str:
        """The owner's choice of channels at notification, with its token."""
        token = link_token(self.receipt_key(), NOTICES, dossier_code)
        return f"{self.notification_url}/preferences/{dossier_code}?token={token}"

    @property
    def payment_window(self) -> timedelta:
        return timedelta(hours=self.payment_window_hours)
