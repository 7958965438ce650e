"""Signing rules (ký số): the result document and the agency's signature over it.

Skeleton: the result is a canonical JSON document signed with ECDSA P-256
(a detached signature any tool can verify with the published public key).
PAdES signatures on PDF results come with the signing rules.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ECDSA-P256-SHA256"


def result_document(dossier_code: str, result_code: str, title: str, unit: str, issued_at: datetime) -> bytes:
    """Canonical bytes of the result: sorted keys, no whitespace, UTF-8."""
    body = {
        "dossier_code": dossier_code,
        "result_code": result_code,
        "title": title,
        "issued_by": unit,
        "issued_at": issued_at.isoformat(),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def result_code(dossier_code: str, number: int = 1) -> str:
    """`<dossier code>-KQ<n>`: the n-th result of the dossier."""
    return f"{dossier_code}-KQ{number}"


def dossier_of(result_code: str) -> str | None:
    """The dossier a result code names (`<dossier code>-KQ<n>`); None for anything else."""
    dossier_code, separator, number = result_code.rpartition("-KQ")
    return dossier_code if separator and dossier_code and number.isascii() and number.isdigit() else None


def sign(document: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    return base64.b64encode(key.sign(document, ec.ECDSA(hashes.SHA256()))).decode()


def key_id(key: ec.EllipticCurvePrivateKey) -> str:
    """SHA-256 of the public key (DER): names the key in every signature."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def public_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_key(path: Path, create_if_missing: bool) -> ec.EllipticCurvePrivateKey:
    """The agency's key from `path` (PEM); a new one written there only if `create_if_missing`."""
    if not path.exists():
        if not create_if_missing:
            raise FileNotFoundError(f"signing key {path} not found (MOTCUA_SIGNING_KEY_FILE)")
        key = ec.generate_private_key(ec.SECP256R1())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
        return key
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"signing key {path} must be an EC private key")
    return key


def sha256(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()
