"""The development timestamp authority: its tokens checked by `openssl ts -verify` and by pyHanko
(which PAdES B-T signing relies on), and every bad request answered with a rejection."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asn1crypto import algos, core, tsp, x509
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from infra import pki, tsa
from tests.unit.test_pki import PINS, asgi_client, fresh_pki

TSA_URL = "http://tsa.motcua.test"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tsa.TimestampAuthority]:
    with fresh_pki(tmp_path_factory.mktemp("pki")) as made:  # the CA token is all the TSA needs
        yield tsa.TimestampAuthority(made, PINS["ca_pin"])


@pytest.fixture
async def client(authority: tsa.TimestampAuthority) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(tsa.create_app(authority), TSA_URL) as client:
        yield client


async def test_openssl_verifies_a_granted_timestamp(
    authority: tsa.TimestampAuthority, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    made = authority.pki
    document = tmp_path / "result.pdf"
    document.write_bytes(b"%PDF-1.7 ket qua giai quyet")
    query = tmp_path / "query.tsq"
    await run("openssl", "ts", "-query", "-data", document, "-sha256", "-cert", "-out", query)
    answer = await client.post(
        "/tsa", content=query.read_bytes(), headers={"content-type": "application/timestamp-query"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/timestamp-reply"
    reply = tmp_path / "reply.tsr"
    reply.write_bytes(answer.content)
    text = await run("openssl", "ts", "-reply", "-in", reply, "-text")
    assert "Status: Granted." in text and f"Policy OID: {pki.TSA_POLICY}" in text
    assert "Accuracy: 0x01 seconds" in text and "Nonce: 0x" in text
    root, issuing = made.certificate_path("root-ca"), made.certificate_path("issuing-ca")
    verified = await run(
        "openssl", "ts", "-verify", "-in", reply, "-queryfile", query, "-CAfile", root, "-untrusted", issuing
    )
    assert "Verification: OK" in verified


async def test_pyhanko_accepts_the_token_it_asks_for(authority: tsa.TimestampAuthority) -> None:
    made = authority.pki
    imprint = hashlib.sha256(b"signature value").digest()
    token = await InProcessTimeStamper(authority).async_timestamp(imprint, "sha256")  # checks status and nonce
    root, issuing = (x509.Certificate.load(made.certificate(label)) for label in (pki.ROOT_CA, pki.ISSUING_CA))
    context = ValidationContext(trust_roots=[root], other_certs=[issuing], allow_fetching=False)
    status = TimestampSignatureStatus(**await validate_tst_signed_data(token["content"], context, lambda _: imprint))
    assert status.intact and status.valid and status.trusted, status.trust_problem_indic
    signed = token["content"]
    assert signed["encap_content_info"]["content_type"].native == "tst_info"
    attributes = {a["type"].native for a in signed["signer_infos"][0]["signed_attrs"]}
    assert attributes == {"content_type", "message_digest", "signing_time", "signing_certificate_v2"}
    info = signed["encap_content_info"]["content"].parsed
    assert info["gen_time"].native.microsecond == 0 and info["accuracy"]["seconds"].native == 1


async def test_each_token_has_its_own_serial_and_its_certificate_only_when_asked(
    authority: tsa.TimestampAuthority,
) -> None:
    serials = set()
    for nonce in range(50):
        reply = tsp.TimeStampResp.load(authority.reply(_query(nonce=nonce, cert_req=nonce % 2 == 0)))
        signed = reply["time_stamp_token"]["content"]
        info = signed["encap_content_info"]["content"].parsed
        assert info["nonce"].native == nonce
        serials.add(info["serial_number"].native)
        assert (signed["certificates"].native is not None) == (nonce % 2 == 0)
    assert len(serials) == 50
    reply = tsp.TimeStampResp.load(authority.reply(_query(algorithm="sha512", nonce=None)))
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native is None and info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha512"


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (b"", "bad_request"),
        (b"not a request", "bad_request"),
        (b"\x30\x03\x02\x01\x01", "bad_request"),
        ("md5", "bad_alg"),
        ("short", "bad_data_format"),
        ("policy", "unaccepted_policy"),
        ("version", "bad_request"),
    ],
)
async def test_a_bad_request_is_rejected_never_an_error(
    client: httpx.AsyncClient, body: bytes | str, failure: str
) -> None:
    if isinstance(body, str):
        body = {
            "md5": _query(algorithm="md5"),
            "short": _query(imprint=b"x" * 20),
            "policy": _query(policy="1.2.3.4"),
            "version": _query(version=2),
        }[body]
    answer = await client.post("/", content=body, headers={"content-type": "application/timestamp-query"})
    assert answer.status_code == 200
    status = tsp.PKIStatusInfo.load(core.Sequence.load(answer.content)[0].dump())
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {failure}


async def test_it_reports_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok", "service": "tsa"}
    assert (await client.get("/ready")).json()["policy"] == pki.TSA_POLICY


class InProcessTimeStamper(TimeStamper):
    """pyHanko's timestamp client, its HTTP exchange replaced by a call."""

    def __init__(self, authority: tsa.TimestampAuthority) -> None:
        super().__init__()
        self.authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp.load(self.authority.reply(req.dump()))


def _query(
    algorithm: str = "sha256",
    imprint: bytes | None = None,
    nonce: int | None = 7,
    cert_req: bool = True,
    policy: str | None = None,
    version: int = 1,
) -> bytes:
    size = {"sha256": 32, "sha512": 64, "md5": 16}[algorithm]
    request: dict[str, object] = {
        "version": version,
        "message_imprint": {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
            "hashed_message": imprint if imprint is not None else bytes(size),
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        request["nonce"] = nonce
    if policy:
        request["req_policy"] = policy
    return tsp.TimeStampReq(request).dump()


async def run(*arguments: str | Path) -> str:
    done = await asyncio.to_thread(subprocess.run, list(map(str, arguments)), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr
