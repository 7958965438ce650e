"""Sealed applicants: only the key holders open them, only for their own dossier."""

from __future__ import annotations

import base64
import os

import pytest
from motcua_contracts import Applicant

from services.runtime.personal import PersonalData, UnreadableSeal, decode_key

OLD, NEW = os.urandom(32), os.urandom(32)
LAN = Applicant(name="Nguyễn Thị Lan", phone="0912345678", email="lan@example.vn")
CODE = "H40.101-261124-0001"


def test_a_seal_opens_with_the_key_for_its_dossier_only() -> None:
    sealed = PersonalData(NEW).seal(LAN, CODE)
    assert "Lan" not in sealed.model_dump_json() and "0912345678" not in sealed.model_dump_json()
    assert PersonalData(NEW).open(sealed, CODE) == LAN
    with pytest.raises(UnreadableSeal, match="does not open"):
        PersonalData(NEW).open(sealed, "H40.101-261124-0002")  # moved to another dossier
    with pytest.raises(UnreadableSeal, match="does not hold"):
        PersonalData(os.urandom(32)).open(sealed, CODE)


def test_an_altered_seal_does_not_open() -> None:
    sealed = PersonalData(NEW).seal(LAN, CODE)
    raw = bytearray(base64.b64decode(sealed.ciphertext))
    raw[0] ^= 1
    altered = sealed.model_copy(update={"ciphertext": base64.b64encode(raw).decode()})
    with pytest.raises(UnreadableSeal):
        PersonalData(NEW).open(altered, CODE)


def test_after_a_key_change_old_seals_still_open_and_new_ones_use_the_new_key() -> None:
    old_seal = PersonalData(OLD).seal(LAN, CODE)
    rotated = PersonalData(NEW, older=[OLD])
    assert rotated.open(old_seal, CODE) == LAN
    assert rotated.seal(LAN, CODE).key_id != old_seal.key_id


def test_an_applicant_from_before_sealing_began_is_read_as_it_came() -> None:
    assert PersonalData(NEW).open(LAN, CODE) == LAN


def test_a_key_must_be_32_bytes_in_base64() -> None:
    assert decode_key(base64.b64encode(NEW).decode()) == NEW
    for bad in ("short", base64.b64encode(os.urandom(16)).decode(), "not base64!"):
        with pytest.raises(ValueError, match="32 bytes in base64"):
            decode_key(bad)
