"""Signing's settings: the signing keys' token, the timestamp authority, the certificates that
chain and anchor the signatures, and what opens a signed result (the receipt's access token,
checked with the receipt-token key, or an official's access token from the identity provider)."""

from pydantic import Field, SecretStr

from services.runtime import ServiceSettings
from services.runtime.settings import (
    FileStore,
    OfficialsTokens,
    PdfForms,
    PersonalDataKey,
    ReceiptTokens,
    ReferenceData,
    Workers,
    required,
)


class SigningSettings(
    ServiceSettings, ReferenceData, OfficialsTokens, ReceiptTokens, PersonalDataKey, PdfForms, Workers, FileStore
):
    http_port: int = 8005
    # Routing's public key: only approvals it signed are acted on.
    approval_public_key_file: str | None = required(
        "approval-key.pub.pem", "PEM file of routing's Ed25519 approval key (public part)."
    )
    # The keys: a PKCS#11 token (a network HSM, a card, SoftHSM2 in development) holding each
    # leader's and officer's personal key and each unit's organisation (seal) key, labelled
    # `official:<official id>` and `unit:<unit code>`, each with its certificate beside it.
    pkcs11_module: str = Field(default="/usr/lib/softhsm/libsofthsm2.so", description="The token's PKCS#11 library.")
    pkcs11_token: str = Field(default="motcua-signing", description="Label of the token holding the signing keys.")
    pkcs11_pin: SecretStr | None = required("development", "User PIN of the signing keys' token.")
    ca_certificates_file: str | None = required(
        "pki/issuing-ca.pem",
        "PEM file of the CA certificates between the signers' certificates and the root (embedded in signatures).",
    )
    trust_roots_file: str | None = required(
        "pki/root-ca.pem", "PEM file of the root certificates that signatures must chain to (verification trusts them)."
    )
    tsa_url: str | None = required("http://127.0.0.1:8012/tsa", "RFC 3161 timestamp authority (PAdES B-T).")
    public_url: str | None = required(
        "http://127.0.0.1:8005",
        "Public address of the verification page (the QR code on each result): `<public_url>/verify/<result code>`.",
    )
    signing_timeout_s: float = Field(
        default=30.0, gt=0, description="Timestamp authority, OCSP and CRL requests give up after this long."
    )
    max_batch: int = Field(default=500, ge=1, le=5000, description="Results one signing request signs at most.")
    max_verification_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest PDF the public verification takes."
    )
