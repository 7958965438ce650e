"""The development certificate authority online: CRLs, an OCSP responder and the CA certificates,
which validators fetch from the addresses the certificates name (CRL distribution points,
authorityInfoAccess).

DEVELOPMENT ONLY. It answers for the PKI of infra/pki.py, whose keys it uses inside the token
`motcua-ca` (the root's included, to sign the root's CRL: a real root stays offline). A
deployment never runs it: the licensed CA that issued the platform's certificates publishes
their CRLs and runs their OCSP responder.

    python -m infra.ca            # normally started by `motcua up` as the process "ca"

What it says comes from D/index.json, which it reads again whenever the file changes: a
certificate revoked with `python -m infra.pki revoke` shows up at once in the next CRL and
OCSP answer, without a restart.

Environment:
    MOTCUA_HTTP_PORT   port on 127.0.0.1 (default 8011)
    MOTCUA_PKI_DIR     the PKI's directory D (default .data/dev/pki); its softhsm2.conf is the
                       one used (SOFTHSM2_CONF is set to it)
    MOTCUA_CA_PIN      user PIN of the token motcua-ca (required)

Endpoints: `GET /crl/issuing-ca.crl`, `GET /crl/root-ca.crl` (DER CRLs, valid one hour),
`POST /ocsp` and `GET /ocsp/{base64 request}` (RFC 6960, for the issuing CA's certificates),
`GET /certs/issuing-ca.cer`, `GET /certs/root-ca.cer` (DER), `GET /health`, `GET /ready`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from asn1crypto import core, crl, ocsp, x509
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from . import hsm, pki
from .pki import CA_TOKEN, ISSUED_BY_ISSUING_CA, ISSUING_CA, OCSP, REASONS, ROOT_CA, Index, Pki, Record

log = logging.getLogger("infra.ca")
DEFAULT_PORT = 8011
CRL_VALIDITY = timedelta(hours=1)
CRL_CACHE_S = 60.0
OCSP_VALIDITY = timedelta(minutes=10)
OCSP_HASHES = ("sha1", "sha256", "sha384", "sha512")
CrlIssuer = Literal["root-ca", "issuing-ca"]
CRL_FILES: dict[str, CrlIssuer] = {"root-ca.crl": "root-ca", "issuing-ca.crl": "issuing-ca"}
MALFORMED = ocsp.OCSPResponse({"response_status": "malformed_request"}).dump()


class WatchedIndex:
    """The CA's index, read again when the file changes (a revocation by the command line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._index = Index()
        self._lock = threading.Lock()

    def current(self) -> tuple[Index, tuple[int, int, int]]:
        """The index as the file now says, and a stamp that changes when the file does."""
        status = self.path.stat()
        stamp = (status.st_mtime_ns, status.st_ino, status.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._index, self._stamp = Index.load(self.path), stamp
            return self._index, stamp


@dataclass
class _SignedCrl:
    der: bytes
    stamp: tuple[int, int, int]
    made_at: float  # time.monotonic()


class CertificateAuthority:
    """Signs CRLs and OCSP answers with the CA's keys in the token, from what the index says."""

    def __init__(self, pki_: Pki, pin: str) -> None:
        self.pki = pki_
        self.token = hsm.open_token(CA_TOKEN, pin, module=pki.MODULE, env=pki_.env())
        self.certificates = {label: x509.Certificate.load(pki_.certificate(label)) for label in (ROOT_CA, ISSUING_CA)}
        self.responder = x509.Certificate.load(pki_.certificate(OCSP))
        self.index = WatchedIndex(pki_.index_path)
        self.index.current()  # a CA without its index cannot start
        self._crls: dict[str, _SignedCrl] = {}
        self._crl_number = 0
        self._lock = threading.Lock()
        issuing = self.certificates[ISSUING_CA]
        self._issuing_hashes = {  # CertID's issuerNameHash and issuerKeyHash, per hash algorithm
            name: (
                hashlib.new(name, issuing.subject.dump()).digest(),
                hashlib.new(name, bytes(issuing.public_key["public_key"])).digest(),
            )
            for name in OCSP_HASHES
        }

    # --- CRLs ---------------------------------------------------------------------------------

    def crl(self, issuer: CrlIssuer) -> bytes:
        """The issuer's CRL (DER): signed again when the index changed or after a minute."""
        index, stamp = self.index.current()
        with self._lock:
            cached = self._crls.get(issuer)
            if cached and cached.stamp == stamp and time.monotonic() - cached.made_at < CRL_CACHE_S:
                return cached.der
            self._crl_number = max(self._crl_number + 1, int(time.time()))  # increases across restarts too
            der = self._sign_crl(issuer, index, self._crl_number)
            self._crls[issuer] = _SignedCrl(der, stamp, time.monotonic())
            return der

    def _sign_crl(self, issuer: CrlIssuer, index: Index, number: int) -> bytes:
        kinds = ("ca",) if issuer == ROOT_CA else ISSUED_BY_ISSUING_CA
        revoked = [record for record in index if record.kind in kinds and record.status == "revoked"]
        now = _now()
        certificate = self.certificates[issuer]
        tbs: dict[str, Any] = {
            "version": "v2",
            "signature": {"algorithm": "sha256_ecdsa"},
            "issuer": certificate.subject,
            "this_update": pki.asn1_time(now),
            "next_update": pki.asn1_time(now + CRL_VALIDITY),
            "crl_extensions": [
                {"extn_id": "crl_number", "extn_value": number},
                {"extn_id": "authority_key_identifier", "extn_value": {"key_identifier": certificate.key_identifier}},
            ],
        }
        if revoked:  # an empty list is left out (RFC 5280 §5.1.2.6)
            tbs["revoked_certificates"] = [_revoked_entry(record) for record in revoked]
        tbs_list = crl.TbsCertList(tbs)
        signature = self.token.sign(issuer, tbs_list.dump())
        return crl.CertificateList(
            {
                "tbs_cert_list": tbs_list,
                "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                "signature": signature,
            }
        ).dump()

    # --- OCSP ---------------------------------------------------------------------------------

    def ocsp(self, body: bytes) -> bytes:
        """The answer (DER OCSPResponse) to an OCSP request; malformedRequest for what cannot be read."""
        try:
            request = ocsp.OCSPRequest.load(body)
            tbs = request["tbs_request"]
            certificates = [item["req_cert"] for item in tbs["request_list"]]
            nonces = [ext for ext in tbs["request_extensions"] or [] if ext["extn_id"].native == "nonce"]
            statuses = [self._status(cert_id) for cert_id in certificates]
            echoed = [ocsp.ResponseDataExtension.load(ext.dump()) for ext in nonces]
        except (ValueError, TypeError, KeyError, OverflowError) as error:
            log.info("malformed OCSP request: %s", error)
            return MALFORMED
        if not certificates:
            return MALFORMED
        return self._sign_ocsp(certificates, statuses, echoed)

    def _status(self, cert_id: ocsp.CertId) -> ocsp.CertStatus:
        algorithm = cert_id["hash_algorithm"]["algorithm"].native
        expected = self._issuing_hashes.get(algorithm)
        issued_here = expected == (cert_id["issuer_name_hash"].native, cert_id["issuer_key_hash"].native)
        record = self.index.current()[0].records.get(cert_id["serial_number"].native) if issued_here else None
        if record is None or record.kind not in ISSUED_BY_ISSUING_CA:
            return ocsp.CertStatus(name="unknown", value=core.Null())
        if record.status == "good":
            return ocsp.CertStatus(name="good", value=core.Null())
        revoked = {
            "revocation_time": record.revoked_time(),
            "revocation_reason": REASONS[record.reason or "unspecified"],
        }
        return ocsp.CertStatus(name="revoked", value=revoked)

    def _sign_ocsp(self, certificates: list[ocsp.CertId], statuses: list[ocsp.CertStatus], echoed: list) -> bytes:
        now = _now()
        responses = [
            {"cert_id": cert_id, "cert_status": status, "this_update": now, "next_update": now + OCSP_VALIDITY}
            for cert_id, status in zip(certificates, statuses, strict=True)
        ]
        data: dict[str, Any] = {
            "responder_id": ocsp.ResponderId(name="by_key", value=self.responder.public_key.sha1),
            "produced_at": now,
            "responses": responses,
        }
        if echoed:
            data["response_extensions"] = echoed
        response_data = ocsp.ResponseData(data)
        basic = ocsp.BasicOCSPResponse(
            {
                "tbs_response_data": response_data,
                "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                "signature": self.token.sign(OCSP, response_data.dump()),
                "certs": [self.responder],
            }
        )
        return ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
            }
        ).dump()


def _revoked_entry(record: Record) -> dict[str, Any]:
    return {
        "user_certificate": record.serial,
        "revocation_date": pki.asn1_time(record.revoked_time() or _now()),
        "crl_entry_extensions": [{"extn_id": "crl_reason", "extn_value": REASONS[record.reason or "unspecified"]}],
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def create_app(authority: CertificateAuthority) -> FastAPI:
    """The CA's HTTP app."""
    app = FastAPI(title="motcua development certificate authority (development only)", version="0.1.0")

    @app.get("/crl/{name}", tags=["ca"])
    async def crl_(name: str) -> Response:
        """The CRL of the root (root-ca.crl) or of the issuing CA (issuing-ca.crl), DER."""
        issuer = CRL_FILES.get(name)
        if issuer is None:
            return Response(status_code=404)
        return Response(authority.crl(issuer), media_type="application/pkix-crl")

    @app.get("/certs/{name}", tags=["ca"])
    async def certificate(name: str) -> Response:
        """The root's (root-ca.cer) or the issuing CA's (issuing-ca.cer) certificate, DER."""
        label = name.removesuffix(".cer")
        if label not in authority.certificates or not name.endswith(".cer"):
            return Response(status_code=404)
        return Response(authority.certificates[label].dump(), media_type="application/pkix-cert")

    @app.post("/ocsp", tags=["ca"])
    async def ocsp_post(request: Request) -> Response:
        """OCSP (RFC 6960) over POST: the body is the DER request."""
        return Response(authority.ocsp(await request.body()), media_type="application/ocsp-response")

    @app.get("/ocsp/{encoded:path}", tags=["ca"])
    async def ocsp_get(encoded: str) -> Response:
        """OCSP over GET: the request in base64, URL-encoded, after /ocsp/ (RFC 6960 §A.1)."""
        try:
            body = base64.b64decode(unquote(encoded), validate=True)
        except (binascii.Error, ValueError):
            body = b""
        return Response(authority.ocsp(body), media_type="application/ocsp-response")

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": "ca"}

    @app.get("/ready", tags=["operations"], response_model=None)
    async def ready() -> dict[str, Any] | JSONResponse:
        """Readiness: the token is open and the index can be read."""
        try:
            index, _ = authority.index.current()
        except (OSError, ValueError) as error:
            return JSONResponse({"status": "not ready", "service": "ca", "problem": str(error)}, status_code=503)
        return {"status": "ready", "service": "ca", "certificates": len(index.records)}

    return app


def main() -> None:
    pki.serve("ca", DEFAULT_PORT, lambda made, pin: create_app(CertificateAuthority(made, pin)))


if __name__ == "__main__":
    main()
