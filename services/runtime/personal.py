"""Citizens' names and contact details sealed for the services that address them.

`dossier.received` travels on a topic that departments and dashboards read, yet routing
(forms addressed to the applicant) and notification (messages) need the applicant's name,
phone and email; likewise `dossier.approved` carries the name signing prints on the result, and
`dossier.received` and `result.archived` the owner's identity hash, which links the owner's
documents in the e-data store (digitisation) and lets intake reuse them. Intake seals them with AES-256-GCM under the platform's personal-data
key, the dossier code as associated data (a sealed block moved to another dossier does
not open); only the services given the key open them. Each seal names its key, so a new
key can be introduced while old seals still open with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from motcua_contracts import (
    Applicant,
    Holder,
    OfficialContact,
    Owner,
    PayLink,
    Sealed,
    SealedApplicant,
    SealedHolder,
    SealedOfficialContact,
    SealedOwner,
    SealedPayLink,
)
from motcua_contracts.events import Part

KEY_BYTES = 32
NONCE_BYTES = 12


class UnreadableSeal(ValueError):
    """The seal does not open: another key, another dossier, or altered bytes."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"motcua-personal-data:" + key).hexdigest()[:12]


def decode_key(text: str) -> bytes:
    """A key as configured: 32 bytes in base64."""
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError("the personal-data key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
    return key


class PersonalData:
    """Seals with the current key; opens with it or any older key still configured."""

    def __init__(self, current: bytes, older: Iterable[bytes] = ()) -> None:
        self.current = current
        self.keys = {key_id(key): AESGCM(key) for key in (*older, current)}

    def seal(self, applicant: Applicant, dossier_code: str) -> SealedApplicant:
        return SealedApplicant(**self._seal(applicant, dossier_code))

    def seal_holder(self, name: str, dossier_code: str) -> SealedHolder:
        """The name a result is issued to, for signing to print on it."""
        return SealedHolder(**self._seal(Holder(name=name), dossier_code))

    def seal_owner(self, identity_hash: str, dossier_code: str) -> SealedOwner:
        """The owner's identity hash, for the e-data store (digitisation) and intake."""
        return SealedOwner(**self._seal(Owner(identity_hash=identity_hash), dossier_code))

    def seal_pay_link(self, url: str, dossier_code: str) -> SealedPayLink:
        """The payment page's link with its pay token, for notification to send to the citizen."""
        return SealedPayLink(**self._seal(PayLink(url=url), dossier_code))

    def open_pay_link(self, sealed: SealedPayLink, dossier_code: str) -> str:
        return PayLink.model_validate_json(self._open(sealed, dossier_code, "the pay link's")).url

    def seal_official(self, contact: OfficialContact, official_id: str) -> SealedOfficialContact:
        """An official's name, e-mail and phone, for notification to alert them (bound to their id)."""
        return SealedOfficialContact(**self._seal(contact, official_id))

    def open_official(self, sealed: SealedOfficialContact, official_id: str) -> OfficialContact:
        return OfficialContact.model_validate_json(self._open(sealed, official_id, "the official's"))

    def open(self, sealed: SealedApplicant | Applicant, dossier_code: str) -> Applicant:
        """The applicant; an event published before sealing began carries it in clear."""
        if isinstance(sealed, Applicant):
            return sealed
        return Applicant.model_validate_json(self._open(sealed, dossier_code, "the applicant's"))

    def open_holder(self, sealed: SealedHolder, dossier_code: str) -> str:
        return Holder.model_validate_json(self._open(sealed, dossier_code, "the result holder's")).name

    def open_owner(self, sealed: SealedOwner, dossier_code: str) -> str:
        """The owner's identity hash."""
        return Owner.model_validate_json(self._open(sealed, dossier_code, "the owner's")).identity_hash

    def _seal(self, part: Part, dossier_code: str) -> dict[str, str]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.current).encrypt(nonce, part.model_dump_json().encode(), dossier_code.encode())
        return {
            "key_id": key_id(self.current),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
        }

    def _open(self, sealed: Sealed, dossier_code: str, whose: str) -> bytes:
        aead = self.keys.get(sealed.key_id)
        if aead is None:
            raise UnreadableSeal(f"sealed with key {sealed.key_id}, which this service does not hold")
        try:
            return aead.decrypt(
                base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), dossier_code.encode()
            )
        except (InvalidTag, ValueError):
            raise UnreadableSeal(f"{whose} seal does not open for dossier {dossier_code}") from None
