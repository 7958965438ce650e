"""The development PKI: its certificates checked by openssl and `cryptography` as any relying party
would, its keys only in the tokens, and the CA's CRLs and OCSP answers following the index."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pkcs11
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from infra import ca, hsm, pki

CA_URL = "http://ca.motcua.test"
PINS = {"ca_pin": "ca-user-1234", "signing_pin": "signing-user-5678"}
SO_PINS = {"ca_so_pin": "ca-so-1234", "signing_so_pin": "signing-so-5678"}
OFFICIALS = [
    pki.Official("h40101.chutich", "Hoàng Văn Nam", "H40.101", "Xã An Hiệp"),
    pki.Official("h40101.tiepnhan1", "Trần Thị Thu", "H40.101", "Xã An Hiệp"),
]
UNITS = [pki.Unit("H40.101", "Xã An Hiệp"), pki.Unit("000.01.01.H40", "Văn phòng Ủy ban nhân dân tỉnh")]


@contextmanager
def fresh_pki(directory: Path, **holders: object) -> Iterator[pki.Pki]:
    """A new PKI in `directory`; afterwards SoftHSM is left as it was found in this process."""
    before = os.environ.get("SOFTHSM2_CONF")
    try:
        yield pki.init(directory, ca_url=CA_URL, **holders, **PINS, **SO_PINS)  # type: ignore[arg-type]
    finally:
        hsm.release()  # the next user of SoftHSM in this process starts from its own settings
        if before is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = before


def asgi_client(app: object, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pki.Pki]:
    """One PKI for the module (generating keys in SoftHSM is the slow part)."""
    with fresh_pki(tmp_path_factory.mktemp("pki"), officials=OFFICIALS, units=UNITS) as made:
        yield made


def certificate(made: pki.Pki, label: str) -> x509.Certificate:
    """A certificate as the signing service finds it: in the token, under the signer's label."""
    token_label = pki.CA_TOKEN if label in pki.CA_KINDS else pki.SIGNING_TOKEN
    token = hsm.open_token(token_label, PINS["ca_pin" if token_label == pki.CA_TOKEN else "signing_pin"])
    der = token.certificate(label)
    assert der is not None, label
    return x509.load_der_x509_certificate(der)


def write_pem(path: Path, *certificates: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return path


def test_init_lays_out_the_directory_with_public_files_only(made: pki.Pki) -> None:
    directory = made.directory
    assert (directory / "softhsm2.conf").read_text() == (
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    assert pki.softhsm_env(directory) == {"SOFTHSM2_CONF": str(directory / "softhsm2.conf")}
    for name in ("root-ca", "issuing-ca", "ocsp", "tsa"):
        text = (directory / f"{name}.pem").read_text()
        assert text.startswith("-----BEGIN CERTIFICATE-----") and text.count("BEGIN") == 1
    everything = b"".join(path.read_bytes() for path in directory.rglob("*") if path.is_file())
    assert b"PRIVATE KEY" not in everything
    kinds = sorted(record.kind for record in made.index())
    assert kinds == ["ca", "ocsp", "personal", "personal", "root", "seal", "seal", "tsa"]
    assert {record.label for record in made.index()} >= {"official:h40101.chutich", "unit:000.01.01.H40"}
    assert all(record.status == "good" for record in made.index())


def test_the_chain_verifies_with_openssl(made: pki.Pki, tmp_path: Path) -> None:
    leaves = [certificate(made, label) for label in ("official:h40101.chutich", "unit:H40.101", "tsa", "ocsp")]
    files = [str(write_pem(tmp_path / f"{n}.pem", leaf)) for n, leaf in enumerate(leaves)]
    root, issuing = made.certificate_path("root-ca"), made.certificate_path("issuing-ca")
    checked = subprocess.run(
        ["openssl", "verify", "-CAfile", root, "-untrusted", issuing, *files], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == 4


def test_each_kind_of_certificate_has_its_profile(made: pki.Pki) -> None:
    root = certificate(made, "root-ca")
    issuing = certificate(made, "issuing-ca")
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).critical
    assert root.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert (root.not_valid_after_utc - root.not_valid_before_utc).days >= 20 * 365
    constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    assert _crl_url(issuing) == f"{CA_URL}/crl/root-ca.crl"
    aki = issuing.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest

    personal = certificate(made, "official:h40101.chutich")
    assert personal.issuer == issuing.subject
    assert personal.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Hoàng Văn Nam"
    subject = asn1_x509.Certificate.load(personal.public_bytes(serialization.Encoding.DER)).subject
    assert {a["type"].native: a["value"].name for rdn in subject.chosen for a in rdn} == {
        "country_name": "printable_string",  # Vietnamese names in UTF8String
        "organization_name": "utf8_string",
        "common_name": "utf8_string",
        "user_id": "utf8_string",
    }
    assert personal.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == "h40101.chutich"
    assert personal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Xã An Hiệp"
    usage = personal.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    with pytest.raises(x509.ExtensionNotFound):
        personal.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    access = personal.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert {(a.access_method._name, a.access_location.value) for a in access} == {
        ("OCSP", f"{CA_URL}/ocsp"),
        ("caIssuers", f"{CA_URL}/certs/issuing-ca.cer"),
    }
    assert _crl_url(personal) == f"{CA_URL}/crl/issuing-ca.crl"
    assert _policies(personal) == [pki.PERSONAL_POLICY]
    assert isinstance(personal.public_key(), ec.EllipticCurvePublicKey)
    assert personal.public_key().curve.name == "secp256r1"
    assert personal.signature_hash_algorithm.name == "sha256"
    assert (personal.not_valid_after_utc.year - personal.not_valid_before_utc.year) == 3

    seal = certificate(made, "unit:000.01.01.H40")
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "000.01.01.H40"
    assert seal.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Văn phòng Ủy ban nhân dân tỉnh"
    assert _policies(seal) == [pki.SEAL_POLICY]

    responder = certificate(made, "ocsp")
    assert list(responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.OCSP_SIGNING
    ]
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)

    tsa = certificate(made, "tsa")
    purposes = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert purposes.critical and list(purposes.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert _policies(tsa) == [pki.TSA_POLICY]


def test_each_key_is_made_in_the_token_and_never_leaves_it(made: pki.Pki) -> None:
    lib = hsm.library(pki.MODULE, made.env())
    hsm.open_token(pki.SIGNING_TOKEN, PINS["signing_pin"])  # logged in (a login holds for the process)
    with lib.get_token(token_label=pki.SIGNING_TOKEN).open() as session:
        label = "official:h40101.chutich"
        found = {type(item).__name__: item for item in session.get_objects({pkcs11.Attribute.LABEL: label})}
        assert set(found) == {"PrivateKey", "PublicKey", "Certificate"}
        key = found["PrivateKey"]
        for attribute in (pkcs11.Attribute.SENSITIVE, pkcs11.Attribute.ALWAYS_SENSITIVE, pkcs11.Attribute.SIGN):
            assert key[attribute] is True
        assert key[pkcs11.Attribute.EXTRACTABLE] is False and key[pkcs11.Attribute.NEVER_EXTRACTABLE] is True
        assert key[pkcs11.Attribute.LOCAL] is True  # generated in the token, not imported
        assert found["Certificate"][pkcs11.Attribute.ID] == key[pkcs11.Attribute.ID]
        with pytest.raises(pkcs11.AttributeSensitive):
            key[pkcs11.Attribute.VALUE]
    token = hsm.open_token(pki.SIGNING_TOKEN, PINS["signing_pin"])
    assert set(token.labels()) >= {"official:h40101.chutich", "official:h40101.tiepnhan1", "unit:H40.101"}
    assert not set(token.labels()) & set(pki.CA_KINDS)  # the CA's keys are in the other token
    signature = token.sign(label, b"ket qua")
    certificate(made, label).public_key().verify(signature, b"ket qua", ec.ECDSA(hashes.SHA256()))


def test_init_again_issues_only_what_is_missing(made: pki.Pki) -> None:
    before = {record.serial: record.sha256 for record in made.index()}
    newcomer = pki.Official("h40101.phochutich", "Đỗ Thị Mai", "H40.101", "Xã An Hiệp")
    again = pki.init(made.directory, ca_url=CA_URL, officials=[*OFFICIALS, newcomer], units=UNITS, **PINS)
    after = {record.serial: record.sha256 for record in again.index()}
    assert {serial: after[serial] for serial in before} == before
    [added] = [record for record in again.index() if record.serial not in before]
    assert added.label == "official:h40101.phochutich" and added.kind == "personal"
    with pytest.raises(ValueError, match="was made for the CA at"):
        pki.init(made.directory, ca_url="http://elsewhere.test", **PINS)


def test_the_command_line_wants_the_pins(made: pki.Pki, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("MOTCUA_CA_PIN", raising=False)
    monkeypatch.delenv("MOTCUA_SIGNING_PIN", raising=False)
    with pytest.raises(SystemExit):
        pki.main(["--dir", str(made.directory), "issue", "unit", "H40.102", "--name", "Xã Bình Minh"])
    assert "MOTCUA_CA_PIN must be set" in capsys.readouterr().err
    pki.main(["--dir", str(made.directory), "list"])
    assert "official:h40101.chutich" in capsys.readouterr().out


@pytest.fixture(scope="module")
def authority(made: pki.Pki) -> ca.CertificateAuthority:
    return ca.CertificateAuthority(made, PINS["ca_pin"])


@pytest.fixture
async def client(authority: ca.CertificateAuthority) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(ca.create_app(authority), CA_URL) as client:
        yield client


async def test_the_ca_serves_its_certificates_and_readiness(made: pki.Pki, client: httpx.AsyncClient) -> None:
    answer = await client.get("/certs/issuing-ca.cer")
    assert answer.headers["content-type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(answer.content) == certificate(made, "issuing-ca")
    assert (await client.get("/certs/ocsp.cer")).status_code == 404
    assert (await client.get("/ready")).json()["status"] == "ready"
    assert (await client.get("/health")).json() == {"status": "ok", "service": "ca"}


async def test_ocsp_answers_good_revoked_and_unknown_from_the_index(made: pki.Pki, client: httpx.AsyncClient) -> None:
    issuing = certificate(made, "issuing-ca")
    seal = certificate(made, "unit:H40.101")
    good = await _ask(client, seal, issuing, nonce=b"0123456789abcdef")
    assert good.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert good.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"0123456789abcdef"
    responder = certificate(made, "ocsp")
    assert good.certificates == [responder]
    assert (
        good.responder_key_hash == responder.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    responder.public_key().verify(good.signature, good.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
    assert (good.next_update_utc - good.this_update_utc).total_seconds() == 600

    pki.revoke(made.directory, "unit:H40.101", "keyCompromise")  # the CA notices without a restart
    revoked = await _ask(client, seal, issuing, get=True)
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason == x509.ReasonFlags.key_compromise
    assert abs((datetime.now(UTC) - revoked.revocation_time_utc).total_seconds()) < 60

    # a serial the CA never issued, under the same issuer
    request = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        issuing_name_hash(issuing), issuing_key_hash(issuing), 12345, hashes.SHA1()
    )
    answer = await client.post("/ocsp", content=request.build().public_bytes(serialization.Encoding.DER))
    assert ocsp.load_der_ocsp_response(answer.content).certificate_status == ocsp.OCSPCertStatus.UNKNOWN

    for body in (b"", b"not DER at all", b"\x30\x03\x02\x01\x01"):
        malformed = ocsp.load_der_ocsp_response((await client.post("/ocsp", content=body)).content)
        assert malformed.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    answer = await client.get("/ocsp/%%%")
    assert ocsp.load_der_ocsp_response(answer.content).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


async def test_openssl_accepts_the_ocsp_answers(made: pki.Pki, client: httpx.AsyncClient, tmp_path: Path) -> None:
    leaf = write_pem(tmp_path / "leaf.pem", certificate(made, "tsa"))
    issuing, chain = made.certificate_path("issuing-ca"), tmp_path / "chain.pem"
    chain.write_bytes(made.certificate_path("root-ca").read_bytes() + issuing.read_bytes())
    request = tmp_path / "request.der"
    await openssl("ocsp", "-issuer", issuing, "-cert", leaf, "-reqout", request)
    answer = await client.post(
        "/ocsp", content=request.read_bytes(), headers={"content-type": "application/ocsp-request"}
    )
    assert answer.headers["content-type"] == "application/ocsp-response"
    (tmp_path / "response.der").write_bytes(answer.content)
    checked = await openssl("ocsp", "-reqin", request, "-respin", tmp_path / "response.der", "-CAfile", chain)
    assert "Response verify OK" in checked


async def test_crls_list_what_the_index_revoked(made: pki.Pki, client: httpx.AsyncClient, tmp_path: Path) -> None:
    issuing = certificate(made, "issuing-ca")
    first = x509.load_der_x509_crl((await client.get("/crl/issuing-ca.crl")).content)
    assert first.is_signature_valid(issuing.public_key())
    pki.revoke(made.directory, "official:h40101.tiepnhan1", "affiliationChanged")
    answer = await client.get("/crl/issuing-ca.crl")
    assert answer.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(answer.content)
    assert crl.is_signature_valid(issuing.public_key())
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number > first.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert (crl.next_update_utc - crl.last_update_utc).total_seconds() == 3600
    revoked = crl.get_revoked_certificate_by_serial_number(certificate(made, "official:h40101.tiepnhan1").serial_number)
    assert revoked is not None
    assert (
        revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.affiliation_changed
    )
    assert (
        crl.get_revoked_certificate_by_serial_number(certificate(made, "official:h40101.chutich").serial_number) is None
    )
    assert answer.content == (await client.get("/crl/issuing-ca.crl")).content  # cached until the index changes

    root_crl = x509.load_der_x509_crl((await client.get("/crl/root-ca.crl")).content)
    assert root_crl.is_signature_valid(certificate(made, "root-ca").public_key()) and len(root_crl) == 0
    (tmp_path / "issuing.crl").write_bytes(answer.content)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(made.certificate_path("root-ca").read_bytes() + made.certificate_path("issuing-ca").read_bytes())
    assert "verify OK" in await openssl(
        "crl", "-inform", "DER", "-in", tmp_path / "issuing.crl", "-CAfile", chain, "-noout"
    )
    assert (await client.get("/crl/other.crl")).status_code == 404


def test_a_revoked_holder_gets_a_new_key_and_certificate(made: pki.Pki) -> None:
    clerk = pki.Official("h40101.vanthu", "Ngô Thị Hạnh", "H40.101", "Xã An Hiệp")
    old = pki.issue(made.directory, clerk, **PINS)
    assert pki.issue(made.directory, clerk, **PINS) == old  # in good standing: keeps its certificate
    pki.revoke(made.directory, "official:h40101.vanthu", "superseded")
    with pytest.raises(ValueError, match="already revoked"):
        pki.revoke(made.directory, "official:h40101.vanthu")
    new = pki.issue(made.directory, clerk, **PINS)
    assert new.serial != old.serial and new.status == "good"
    assert made.index().records[old.serial].status == "revoked"
    assert made.index().latest("official:h40101.vanthu") == new
    assert certificate(made, "official:h40101.vanthu").serial_number == new.serial
    with pytest.raises(KeyError):
        pki.revoke(made.directory, "official:nobody")


async def _ask(
    client: httpx.AsyncClient,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    nonce: bytes | None = None,
    get: bool = False,
) -> ocsp.OCSPResponse:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    request = builder.build().public_bytes(serialization.Encoding.DER)
    if get:
        answer = await client.get("/ocsp/" + base64.b64encode(request).decode().replace("/", "%2F"))
    else:
        answer = await client.post("/ocsp", content=request, headers={"content-type": "application/ocsp-request"})
    response = ocsp.load_der_ocsp_response(answer.content)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    return response


async def openssl(*arguments: str | Path) -> str:
    """What openssl says (stdout and stderr); it must succeed."""
    done = await asyncio.to_thread(subprocess.run, ["openssl", *map(str, arguments)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def issuing_name_hash(issuing: x509.Certificate) -> bytes:
    digest = hashes.Hash(hashes.SHA1())
    digest.update(issuing.subject.public_bytes())
    return digest.finalize()


def issuing_key_hash(issuing: x509.Certificate) -> bytes:
    return issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def _crl_url(cert: x509.Certificate) -> str:
    [point] = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    return point.full_name[0].value


def _policies(cert: x509.Certificate) -> list[str]:
    return [
        p.policy_identifier.dotted_string
        for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    ]
