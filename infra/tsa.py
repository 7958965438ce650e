"""The development timestamp authority (RFC 3161 over HTTP): the signing service asks it for the
timestamps of PAdES B-T and B-LT signatures.

DEVELOPMENT ONLY. Its key is the `tsa` key of the token `motcua-ca` (infra/pki.py), its clock
is the machine's. A deployment never runs it: the signing service is pointed at the timestamp
authority of a licensed trust-service provider, which speaks the same protocol.

    python -m infra.tsa           # normally started by `motcua up` as the process "tsa"

It must keep up with signing, so what never changes is encoded once when it starts (its
certificate, the signer's identifier, the signing-certificate-v2 attribute); a request costs
one TSTInfo, one set of signed attributes and one signature in the token.

Environment:
    MOTCUA_HTTP_PORT   port on 127.0.0.1 (default 8012)
    MOTCUA_PKI_DIR     the PKI's directory D (default .data/dev/pki); its softhsm2.conf is the
                       one used (SOFTHSM2_CONF is set to it)
    MOTCUA_CA_PIN      user PIN of the token motcua-ca (required)

Endpoints: `POST /` and `POST /tsa` (body `application/timestamp-query`, answer
`application/timestamp-reply`: a token, or a rejection saying why), `GET /health`, `GET /ready`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime

import pkcs11
from asn1crypto import algos, cms, core, tsp, x509
from asn1crypto.parser import emit
from fastapi import FastAPI, Request, Response

from . import hsm, pki
from .pki import CA_TOKEN, TSA, TSA_POLICY, Pki

log = logging.getLogger("infra.tsa")
DEFAULT_PORT = 8012
DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}  # the message imprints it timestamps
REPLY = "application/timestamp-reply"


class Rejection(Exception):
    """A request the TSA does not grant; `failure` is the PKIFailureInfo bit that says why."""

    def __init__(self, failure: str, text: str) -> None:
        super().__init__(text)
        self.failure = failure


class TimestampAuthority:
    """Grants RFC 3161 timestamps, signed with the TSA key in the token.

    A reply is assembled from DER parts: asn1crypto would encode the whole token again from
    Python values (its certificate included) for each request, which costs ten times the
    signature. What never changes is encoded here once; `_grant` adds what each request brings."""

    def __init__(self, pki_: Pki, pin: str) -> None:
        self.pki = pki_
        self.token = hsm.open_token(CA_TOKEN, pin, module=pki.MODULE, env=pki_.env())
        der = pki_.certificate(TSA)
        certificate = x509.Certificate.load(der)
        signing_certificate = {
            "certs": [
                {
                    "cert_hash": hashlib.sha256(der).digest(),  # hashAlgorithm: SHA-256, the default
                    "issuer_serial": {
                        "issuer": [x509.GeneralName(name="directory_name", value=certificate.issuer)],
                        "serial_number": certificate.serial_number,
                    },
                }
            ]
        }
        sid = {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
        # TSTInfo: version 1 and the policy; accuracy one second
        self._tst_head = core.Integer(1).dump() + core.ObjectIdentifier(TSA_POLICY).dump()
        self._accuracy = tsp.Accuracy({"seconds": 1}).dump()
        # the signed attributes that never change: content type and ESS signing-certificate-v2
        self._constant_attributes = [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump(),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [signing_certificate]}).dump(),
        ]
        self._signing_time = cms.CMSAttributeType("signing_time").dump()
        self._message_digest = cms.CMSAttributeType("message_digest").dump()
        # SignerInfo: version 1, issuer and serial of the TSA certificate, SHA-256; ECDSA with SHA-256
        self._signer_head = core.Integer(1).dump() + cms.IssuerAndSerialNumber(sid).dump() + digest_algorithm
        self._signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump()
        # SignedData: version 3, SHA-256, content type id-ct-TSTInfo, the certificate when asked for
        self._signed_data_head = core.Integer(3).dump() + emit(0, 1, 17, digest_algorithm)
        self._tst_info_type = cms.ContentType("tst_info").dump()
        self._certificates = emit(2, 1, 0, der)  # [0] IMPLICIT SET OF CertificateChoices
        self._signed_data_type = cms.ContentType("signed_data").dump()
        self._granted = tsp.PKIStatusInfo({"status": "granted"}).dump()

    def reply(self, body: bytes) -> bytes:
        """The TimeStampResp (DER) to a TimeStampReq: granted, or a rejection (never an exception)."""
        try:
            return self._grant(_checked(body))
        except Rejection as rejection:
            return _rejection(rejection.failure, str(rejection))
        except pkcs11.PKCS11Error as error:  # the token failed: the client may try again later
            log.error("the token could not sign a timestamp: %r", error)
            return _rejection("system_failure", "the timestamp could not be signed")

    def _grant(self, request: tsp.TimeStampReq) -> bytes:
        now = datetime.now(UTC).replace(microsecond=0)
        serial = time.time_ns() << 32 | secrets.randbits(32)  # unique, and ordered by time
        nonce = request["nonce"]
        tst_info = _sequence(
            self._tst_head,
            request["message_imprint"].dump(),
            core.Integer(serial).dump(),
            core.GeneralizedTime(now).dump(),
            self._accuracy,
            nonce.dump() if nonce.native is not None else b"",
        )
        signing_time = _sequence(self._signing_time, emit(0, 1, 17, core.UTCTime(now).dump()))
        digest = _sequence(self._message_digest, emit(0, 1, 17, _octets(hashlib.sha256(tst_info).digest())))
        # DER orders a SET OF by the encodings of its elements; the signature covers the SET
        attributes = b"".join(sorted([*self._constant_attributes, signing_time, digest]))
        signature = self.token.sign(TSA, emit(0, 1, 17, attributes))
        signer_info = _sequence(
            self._signer_head, emit(2, 1, 0, attributes), self._signature_algorithm, _octets(signature)
        )
        signed_data = _sequence(
            self._signed_data_head,
            _sequence(self._tst_info_type, emit(2, 1, 0, _octets(tst_info))),
            self._certificates if request["cert_req"].native else b"",
            emit(0, 1, 17, signer_info),
        )
        token = _sequence(self._signed_data_type, emit(2, 1, 0, signed_data))
        return _sequence(self._granted, token)


def _checked(body: bytes) -> tsp.TimeStampReq:
    """The request, if the TSA grants such a request; otherwise a Rejection."""
    try:
        request = tsp.TimeStampReq.load(body, strict=True)
        version = request["version"].native
        algorithm = request["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = request["message_imprint"]["hashed_message"].native
        policy = request["req_policy"].native
        extensions = request["extensions"].native
        request["nonce"].native  # noqa: B018  (read now: a malformed nonce is a bad request)
        request["cert_req"].native  # noqa: B018
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise Rejection("bad_request", f"not a TimeStampReq: {first_line}") from None
    if version != "v1":
        raise Rejection("bad_request", f"unsupported version {version}")
    if algorithm not in DIGESTS:
        raise Rejection("bad_alg", f"unsupported hash algorithm {algorithm}; use one of {', '.join(DIGESTS)}")
    if len(imprint) != DIGESTS[algorithm]:
        raise Rejection("bad_data_format", f"a {algorithm} imprint has {DIGESTS[algorithm]} bytes")
    if policy is not None and policy != TSA_POLICY:
        raise Rejection("unaccepted_policy", f"the only policy is {TSA_POLICY}")
    if extensions:
        raise Rejection("unaccepted_extensions", "no extensions are supported")
    return request


def _sequence(*parts: bytes) -> bytes:
    return emit(0, 1, 16, b"".join(parts))


def _octets(content: bytes) -> bytes:
    return emit(0, 0, 4, content)


class _RejectionResp(core.Sequence):
    """A TimeStampResp without a token (asn1crypto's TimeStampResp makes the token mandatory)."""

    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012  (asn1crypto's declaration style)


def _rejection(failure: str, text: str) -> bytes:
    status = {"status": "rejection", "status_string": [text], "fail_info": {failure}}
    return _RejectionResp({"status": status}).dump()


def create_app(authority: TimestampAuthority) -> FastAPI:
    """The TSA's HTTP app."""
    app = FastAPI(title="motcua development timestamp authority (development only)", version="0.1.0")

    async def timestamp(request: Request) -> Response:
        """RFC 3161: a TimeStampReq in, a TimeStampResp out (rejections too are answered with 200)."""
        return Response(authority.reply(await request.body()), media_type=REPLY)

    for path in ("/", "/tsa"):
        app.add_api_route(path, timestamp, methods=["POST"], tags=["tsa"])

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": "tsa"}

    @app.get("/ready", tags=["operations"])
    async def ready() -> dict[str, str]:
        """Readiness: the token is open and the certificate loaded, so timestamps can be granted."""
        return {"status": "ready", "service": "tsa", "policy": TSA_POLICY}

    return app


def main() -> None:
    pki.serve("tsa", DEFAULT_PORT, lambda made, pin: create_app(TimestampAuthority(made, pin)))


if __name__ == "__main__":
    main()
