"""Approvals signed by routing: defence in depth behind the broker's ACLs.

Only routing may publish on its topic, but signing acts on an approval by producing a
signed result, so it also checks that each `dossier.approved` carries routing's Ed25519
signature over the event's canonical JSON (every field but the signature, sorted keys,
no whitespace, UTF-8). A forged or altered approval is dead-lettered with the reason.
Routing holds the private key; signing, and any department that wants to check, holds
the public key.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from motcua_contracts import DossierApproved

from .consumer import RejectedEvent


def canonical(approval: DossierApproved) -> bytes:
    """The fields as they travel (those set: a consumer of another contract version adds no
    defaults of its own), but the signature; sorted keys, no whitespace, UTF-8."""
    body = approval.model_dump(mode="json", exclude_unset=True, exclude={"routing_signature"})
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class ApprovalSigner:
    """Routing's side: signs each approval it publishes."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key

    def sign(self, approval: DossierApproved) -> DossierApproved:
        # every field set, defaults included, exactly as the envelope will carry them
        travelling = DossierApproved.model_validate(approval.model_dump(mode="json"))
        signature = base64.b64encode(self.key.sign(canonical(travelling))).decode()
        return travelling.model_copy(update={"routing_signature": signature})

    @classmethod
    def load(cls, path: Path, create_if_missing: bool) -> ApprovalSigner:
        """The key from `path` (PEM, PKCS#8); in development a new one is written there, with
        its public key beside it (`<name>.pub.pem`) for signing."""
        if not path.exists():
            if not create_if_missing:
                raise FileNotFoundError(f"approval key {path} not found (MOTCUA_APPROVAL_KEY_FILE)")
            write_key_pair(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"approval key {path} must be an Ed25519 private key")
        return cls(key)


class ApprovalVerifier:
    """Signing's side: acts only on approvals routing signed."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self.key = key

    def check(self, approval: DossierApproved) -> None:
        """Raise `RejectedEvent` (the event is dead-lettered) unless routing signed exactly this approval."""
        if not approval.routing_signature:
            raise RejectedEvent("approval without routing's signature")
        try:
            self.key.verify(base64.b64decode(approval.routing_signature, validate=True), canonical(approval))
        except (InvalidSignature, ValueError):
            raise RejectedEvent("approval whose signature is not routing's") from None

    @classmethod
    def load(cls, path: Path) -> ApprovalVerifier:
        if not path.exists():
            raise FileNotFoundError(f"routing's approval public key {path} not found (MOTCUA_APPROVAL_PUBLIC_KEY_FILE)")
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"approval public key {path} must be an Ed25519 public key")
        return cls(key)


def public_key_path(private: Path) -> Path:
    return private.with_name(private.name.removesuffix(".pem") + ".pub.pem")


def write_key_pair(path: Path) -> None:
    """A new Ed25519 key pair: the private key at `path` (mode 600), the public one beside it."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public_key_path(path).write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
