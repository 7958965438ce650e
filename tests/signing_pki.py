"""A development PKI for the tests that sign: one per test session (SoftHSM2 reads its
configuration once per process), with the CA (CRL, OCSP) and the timestamp authority served
in process, reached through `transport`."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from infra import ca, pki, tsa

CA_URL = "http://ca.test"
TSA_URL = "http://tsa.test/tsa"
CA_PIN, SIGNING_PIN = "ca-pin-1234", "signing-pin-5678"
LEADER = pki.Official("h40101.chutich", "Hoàng Văn Nam", "H40.101", "Ủy ban nhân dân xã Mẫu Một")
DEPUTY = pki.Official("h40101.phochutich", "Bùi Thị Mai", "H40.101", "Ủy ban nhân dân xã Mẫu Một")
DOOMED = pki.Official("h40101.nghiviec", "Lý Văn Tạm", "H40.101", "Ủy ban nhân dân xã Mẫu Một")  # revoked in a test
OFFICER = pki.Official("h40101.tiepnhan1", "Trần Thị Thu", "H40.101", "Ủy ban nhân dân xã Mẫu Một")
UNITS = [pki.Unit("H40.101", "Ủy ban nhân dân xã Mẫu Một"), pki.Unit("000.07.01.H40", "Sở Xây dựng")]


class Dispatch(httpx.AsyncBaseTransport):
    """Requests to the CA's and the TSA's host go to their apps in process."""

    def __init__(self, apps: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.apps[request.url.host].handle_async_request(request)


@dataclass(frozen=True)
class DevPki:
    directory: Path

    @property
    def root(self) -> Path:
        return self.directory / "root-ca.pem"

    @property
    def issuing(self) -> Path:
        return self.directory / "issuing-ca.pem"

    def transport(self) -> Dispatch:
        authority = ca.CertificateAuthority(pki.load(self.directory), CA_PIN)
        stamps = tsa.TimestampAuthority(pki.load(self.directory), CA_PIN)
        return Dispatch(
            {
                "ca.test": httpx.ASGITransport(app=ca.create_app(authority)),
                "tsa.test": httpx.ASGITransport(app=tsa.create_app(stamps)),
            }
        )

    def revoke(self, official: pki.Official) -> None:
        pki.revoke(self.directory, pki.official_label(official.id), "keyCompromise")


def signing_settings(**chosen: Any) -> Any:
    """Signing's settings on this PKI (development profile unless `chosen` says otherwise)."""
    from services.signing.settings import SigningSettings

    pki_ = dev_pki()
    defaults = {
        "profile": "development",
        "pkcs11_pin": SIGNING_PIN,
        "ca_certificates_file": str(pki_.issuing),
        "trust_roots_file": str(pki_.root),
        "tsa_url": TSA_URL,
    }
    return SigningSettings(**(defaults | chosen))


@cache
def dev_pki() -> DevPki:
    directory = Path(tempfile.mkdtemp(prefix="motcua-pki-"))
    os.environ.update(pki.softhsm_env(directory))  # before the first PKCS#11 library load of the process
    pki.init(
        directory,
        ca_url=CA_URL,
        tsa_url=TSA_URL,
        officials=[LEADER, DEPUTY, DOOMED, OFFICER],
        units=UNITS,
        ca_pin=CA_PIN,
        signing_pin=SIGNING_PIN,
        ca_so_pin="ca-so-pin-1234",
        signing_so_pin="signing-so-pin-5678",
    )
    return DevPki(directory)
