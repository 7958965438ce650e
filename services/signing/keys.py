"""Where the signing keys live, behind one small interface.

A `Signatory` is a certificate and a key that signs with it; `Keys` finds the signatory of a
label: `official:<official id>` for a leader's or officer's personal certificate,
`unit:<unit code>` for a unit's organisation (seal) certificate. The key never leaves its
holder: `Pkcs11Keys` asks a PKCS#11 token (a network HSM, a smart card, SoftHSM2 in
development) to sign; a remote signing service (the CSC API of a licensed trust-service
provider) implements the same two methods. Nothing here reads a private key from a file.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Protocol

import pkcs11
from asn1crypto import algos, x509
from pkcs11 import Attribute, Mechanism, ObjectClass


class NoSignatory(LookupError):
    """No key and certificate under that label: the CA has not issued one for that official or unit."""


class RawKey(Protocol):
    """A private key held elsewhere: signs `data` (ECDSA over its SHA-256) and returns the DER signature."""

    async def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class Signatory:
    label: str
    certificate: x509.Certificate
    key: RawKey

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the certificate."""
        return hashlib.sha256(self.certificate.dump()).hexdigest()

    @property
    def name(self) -> str:
        """The certificate subject's common name: the leader or the unit, as the certificate names them."""
        return str(self.certificate.subject.native.get("common_name", self.label))


class Keys(Protocol):
    def signatory(self, label: str) -> Signatory: ...


def official_label(official_id: str) -> str:
    return f"official:{official_id}"


def unit_label(unit_code: str) -> str:
    return f"unit:{unit_code}"


class Pkcs11Key:
    """A private key in a PKCS#11 token: the SHA-256 digest is made here, the token signs it (CKM_ECDSA:
    every token has it, not every one has CKM_ECDSA_SHA256)."""

    def __init__(self, handle: pkcs11.PrivateKey, lock: threading.Lock) -> None:
        self.handle, self.lock = handle, lock

    async def sign(self, data: bytes) -> bytes:
        with self.lock:  # one session: PKCS#11 operations on it run one at a time
            raw = self.handle.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
        return algos.DSASignature.from_p1363(raw).dump()


class Pkcs11Keys:
    """The signatories of one PKCS#11 token, found by label and kept once found. A label
    issued after the start (a new leader) is found on first use; one never issued raises
    `NoSignatory`."""

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        library = pkcs11.lib(module)
        try:
            token = library.get_token(token_label=token_label)
        except pkcs11.NoSuchToken:
            raise NoSignatory(f"no PKCS#11 token labelled {token_label!r} (MOTCUA_PKCS11_TOKEN)") from None
        try:
            self.session = token.open(user_pin=pin)
        except pkcs11.PinIncorrect:
            raise PermissionError(f"the PIN of token {token_label!r} is wrong (MOTCUA_PKCS11_PIN)") from None
        except pkcs11.UserAlreadyLoggedIn:  # another session of this process logged in: the login is shared
            self.session = token.open()
        self.lock = threading.Lock()
        self.found: dict[str, Signatory] = {}

    def signatory(self, label: str) -> Signatory:
        if (known := self.found.get(label)) is not None:
            return known
        with self.lock:
            certificates = list(
                self.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label})
            )
            keys = list(self.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label}))
        if not certificates or not keys:
            raise NoSignatory(f"no signing certificate for {label}: the certificate authority has not issued one")
        certificate = x509.Certificate.load(certificates[0][Attribute.VALUE])
        found = Signatory(label, certificate, Pkcs11Key(keys[0], self.lock))
        self.found[label] = found
        return found

    def close(self) -> None:
        self.session.close()
