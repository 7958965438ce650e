from services.runtime import ServiceSettings
from services.runtime.settings import OfficialsTokens, ReceiptTokens, required


class SigningSettings(ServiceSettings, OfficialsTokens, ReceiptTokens):
    """Signing's settings: its keys, plus what opens a signed result (the receipt's access token,
    checked with the receipt-token key, or an official's access token from the identity provider)."""

    http_port: int = 8005
    # PEM private key of the competent agency's signing certificate. Outside the development
    # profile it must exist; the development profile creates it on first start.
    signing_key_file: str | None = required("signing-key.pem", "PEM file of the agency's EC signing key.")
    # Routing's public key: only approvals it signed are acted on.
    approval_public_key_file: str | None = required(
        "approval-key.pub.pem", "PEM file of routing's Ed25519 approval key (public part)."
    )
