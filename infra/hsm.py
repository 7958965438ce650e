"""PKCS#11 tokens for the development PKI: every private key is made inside a token and used
only through it, so no key of the CA, the timestamp authority or a signer ever lies on disk
in clear (SoftHSM2 keeps token objects encrypted under the user PIN).

The CA, the timestamp authority and the PKI's commands use tokens through this module alone:

    token = open_token("motcua-ca", pin)
    token.generate_key_pair("tsa", key_id)       # EC P-256, sensitive, never extractable
    token.store_certificate("tsa", certificate)  # next to its key: same label and CKA_ID
    token.sign("tsa", data)                      # ECDSA with SHA-256, DER ECDSA-Sig-Value

A process keeps one logged-in session per token and finds each object once: the timestamp
authority signs hundreds of replies a second, and a PKCS#11 search costs more than a signature.
The hash is computed here and the token signs the digest (CKM_ECDSA): SoftHSM 2.6 has no
CKM_ECDSA_SHA256, and the raw mechanism is the one every token supports.
"""

from __future__ import annotations

import ctypes
import hashlib
import hmac
import os
import threading
from collections.abc import Mapping
from typing import Any

import pkcs11
from asn1crypto import x509
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature, encode_named_curve_parameters

MODULE = os.environ.get("MOTCUA_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
CURVE = "secp256r1"  # NIST P-256

_PRIVATE_KEY = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.DERIVE: False,
    Attribute.UNWRAP: False,
}
_PUBLIC_KEY = {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.VERIFY: True, Attribute.ENCRYPT: False}


class Token:
    """One logged-in session on a token, with the handles of the objects it has used."""

    def __init__(self, session: pkcs11.Session, label: str, pin: str) -> None:
        self.label = label
        self._session = session
        self._pin_digest = _digest(pin)
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()  # a PKCS#11 session runs one operation at a time

    def labels(self) -> list[str]:
        """The labels of the token's private keys, sorted."""
        with self._lock:
            found = self._session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            return sorted(key.label for key in found)

    def generate_key_pair(self, label: str, key_id: bytes) -> bytes:
        """A new EC P-256 key pair under `label` and `key_id`; its SubjectPublicKeyInfo (DER)."""
        with self._lock:
            parameters = self._session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(CURVE)}, local=True
            )
            public, private = parameters.generate_keypair(
                store=True, label=label, id=key_id, public_template=_PUBLIC_KEY, private_template=_PRIVATE_KEY
            )
            self._keys[label] = private
            return encode_ec_public_key(public)

    def key_id(self, label: str) -> bytes:
        """The CKA_ID of the key under `label`."""
        return bytes(self._private_key(label).id)

    def sign(self, label: str, data: bytes) -> bytes:
        """ECDSA over SHA-256 of `data` with the private key under `label`: a DER ECDSA-Sig-Value,
        as X.509, CMS, CRLs and OCSP carry it."""
        key = self._private_key(label)
        digest = hashlib.sha256(data).digest()
        with self._lock:
            raw = key.sign(digest, mechanism=Mechanism.ECDSA)
        return encode_ecdsa_signature(raw)

    def store_certificate(self, label: str, certificate: bytes) -> None:
        """Keep `certificate` (DER) next to its key: same label and CKA_ID, which is how a signer is
        found (pyHanko's PKCS11Signer looks the key and the certificate up by label)."""
        key_id = self.key_id(label)
        parsed = x509.Certificate.load(certificate)
        with self._lock:
            self._session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.LABEL: label,
                    Attribute.ID: key_id,
                    Attribute.SUBJECT: parsed.subject.dump(),
                    Attribute.ISSUER: parsed.issuer.dump(),
                    Attribute.SERIAL_NUMBER: parsed["tbs_certificate"]["serial_number"].dump(),  # DER INTEGER
                    Attribute.VALUE: certificate,
                }
            )

    def certificate(self, label: str) -> bytes | None:
        """The certificate (DER) stored under `label`, or None."""
        return self.certificates({Attribute.LABEL: label}).get(label)

    def certificates(self, query: Mapping[Attribute, Any] | None = None) -> dict[str, bytes]:
        """The certificates (DER) stored in the token, by label: one search for them all."""
        with self._lock:
            found = self._session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, **(query or {})})
            return {item[Attribute.LABEL]: bytes(item[Attribute.VALUE]) for item in found}

    def destroy(self, label: str) -> None:
        """Remove the key pair and the certificate under `label` (a revoked signer's, before a new one)."""
        with self._lock:
            for found in list(self._session.get_objects({Attribute.LABEL: label})):
                found.destroy()
            self._keys.pop(label, None)

    def _private_key(self, label: str) -> Any:
        with self._lock:
            if label not in self._keys:
                query = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label}
                found = list(self._session.get_objects(query))
                if len(found) != 1:
                    raise KeyError(f"token {self.label} has {len(found)} keys labelled {label!r}, not one")
                self._keys[label] = found[0]
            return self._keys[label]


_tokens: dict[tuple[str, str], Token] = {}
_guard = threading.Lock()


def library(module: str = MODULE, env: Mapping[str, str] | None = None) -> Any:
    """The PKCS#11 module, initialised once per process with the settings in `env` (SoftHSM2:
    `SOFTHSM2_CONF`), which go to the process environment, where the module reads them when it is
    initialised. Other settings than the current ones initialise it again, which closes every
    token this process had open."""
    with _guard:
        wanted = dict(env or {})
        if any(os.environ.get(name) != value for name, value in wanted.items()):
            os.environ.update(wanted)
            _finalise(module)
        return pkcs11.lib(module)  # initialises the module if it is not


def release(module: str = MODULE) -> None:
    """Close the tokens this process opened and finalise the module: whoever uses it next in this
    process initialises it afresh, with the settings of that moment."""
    with _guard:
        _finalise(module)


def _finalise(module: str) -> None:
    for key in [key for key in _tokens if key[0] == module]:
        del _tokens[key]
    lib = pkcs11.lib(module)
    if lib.initialized:
        lib.finalize()


def token_labels(module: str = MODULE, env: Mapping[str, str] | None = None) -> list[str]:
    """The labels of the module's initialised tokens."""
    slots = library(module, env).get_slots(token_present=True)
    tokens = [slot.get_token() for slot in slots]
    return sorted(token.label for token in tokens if token.flags & TokenFlag.TOKEN_INITIALIZED)


def create_token(
    label: str, *, pin: str, so_pin: str, module: str = MODULE, env: Mapping[str, str] | None = None
) -> None:
    """Initialise a free token under `label` with these PINs (C_InitToken, then C_InitPIN).
    The PINs go straight to the module, never through a command line."""
    lib = library(module, env)
    if label in token_labels(module, env):
        raise ValueError(f"a token labelled {label!r} already exists")
    free = [
        slot for slot in lib.get_slots(token_present=True) if not slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED
    ]
    if not free:
        raise RuntimeError(f"{module} has no free token to initialise")
    cryptoki = ctypes.CDLL(module)  # the same loaded module: python-pkcs11 has no C_InitToken
    cryptoki.C_InitToken.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    cryptoki.C_InitToken.restype = ctypes.c_ulong
    so = so_pin.encode()
    padded_label = label.encode().ljust(32)[:32]
    result = cryptoki.C_InitToken(free[0].slot_id, so, len(so), padded_label)
    if result != 0:
        raise RuntimeError(f"C_InitToken for {label!r} failed with CKR 0x{result:x}")
    with free[0].get_token().open(rw=True, so_pin=so_pin) as session:
        session.init_pin(pin)
    release(module)  # the module lists the new token (and a fresh free slot) once initialised again


def open_token(label: str, pin: str, *, module: str = MODULE, env: Mapping[str, str] | None = None) -> Token:
    """The token labelled `label`, logged in with `pin`: opened once per process and then shared."""
    lib = library(module, env)
    with _guard:
        token = _tokens.get((module, label))
        if token is not None:
            if not hmac.compare_digest(token._pin_digest, _digest(pin)):
                raise pkcs11.PinIncorrect(f"wrong PIN for token {label!r}")
            return token
        found = lib.get_token(token_label=label)
        try:
            session = found.open(rw=True, user_pin=pin)
        except pkcs11.UserAlreadyLoggedIn:  # a login holds for the whole process: another part of
            session = found.open(rw=True)  # it (pyHanko's PKCS11Signer) logged in with the PIN already
        token = _tokens[(module, label)] = Token(session, label, pin)
        return token


def _digest(pin: str) -> bytes:
    return hashlib.sha256(pin.encode()).digest()
