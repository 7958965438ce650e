"""Revocation status at the moment of signing, and the validation data PAdES B-LT embeds.

Before a leader's batch is signed, the status of every certificate the signatures rest on is
asked of the CA once: OCSP for the leader's, the unit's and the timestamp authority's
certificates (the addresses in their AIA), the CRL for the issuing CA (from the root's
distribution point). Each answer is checked (signed by the CA's delegated responder or the
root, about this certificate, current); a revoked certificate stops the signing with the
reason. The same answers go into the document security store of every result of the batch:
fetched once per batch rather than once per signature, and never older than the batch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

CLOCK_SKEW = timedelta(minutes=5)


class Revoked(Exception):
    """A certificate a signature would rest on is revoked (since `at`)."""

    def __init__(self, message: str, at: datetime) -> None:
        super().__init__(message)
        self.at = at


class StatusUnavailable(Exception):
    """The CA could not tell the status of a certificate (unreachable, or an answer that does not check)."""


@dataclass
class ValidationData:
    """What the DSS of a signed result carries: certificates, OCSP responses, CRLs (DER)."""

    certificates: list[bytes] = field(default_factory=list)
    ocsps: list[bytes] = field(default_factory=list)
    crls: list[bytes] = field(default_factory=list)

    def asn1(self) -> tuple[list[asn1_x509.Certificate], list, list]:
        from asn1crypto import crl
        from asn1crypto import ocsp as asn1_ocsp

        return (
            [asn1_x509.Certificate.load(c) for c in self.certificates],
            [asn1_ocsp.OCSPResponse.load(o) for o in self.ocsps],
            [crl.CertificateList.load(c) for c in self.crls],
        )


def cryptography_certificate(certificate: asn1_x509.Certificate | bytes) -> x509.Certificate:
    der = certificate if isinstance(certificate, bytes) else certificate.dump()
    return x509.load_der_x509_certificate(der)


class RevocationChecker:
    """Asks the CA; `now` lets the tests set the clock."""

    def __init__(self, client: httpx.AsyncClient, issuing: x509.Certificate, root: x509.Certificate) -> None:
        self.client, self.issuing, self.root = client, issuing, root

    async def collect(self, certificates: list[x509.Certificate]) -> ValidationData:
        """Check every certificate in `certificates` (issued by the issuing CA) and the issuing CA
        itself; `Revoked` or `StatusUnavailable` if one is not good."""
        data = ValidationData(
            certificates=[c.public_bytes(serialization.Encoding.DER) for c in (*certificates, self.issuing, self.root)]
        )
        for certificate in certificates:
            data.ocsps.append(await self.ocsp_status(certificate))
        data.crls.append(await self.issuing_ca_crl())
        return data

    async def ocsp_status(self, certificate: x509.Certificate) -> bytes:
        url = _ocsp_url(certificate)
        request = ocsp.OCSPRequestBuilder().add_certificate(certificate, self.issuing, hashes.SHA1()).build()
        body = request.public_bytes(serialization.Encoding.DER)
        answer = await self._fetch("POST", url, content=body, headers={"Content-Type": "application/ocsp-request"})
        try:
            response = ocsp.load_der_ocsp_response(answer)
        except ValueError:
            raise StatusUnavailable(f"the OCSP responder's answer about {_who(certificate)} does not parse") from None
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise StatusUnavailable(
                f"the OCSP responder answered {response.response_status.name} about {_who(certificate)}"
            )
        self._check_ocsp(response, certificate)
        if response.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            reason = response.revocation_reason.name if response.revocation_reason else "unspecified"
            when = response.revocation_time_utc
            raise Revoked(
                f"the certificate of {_who(certificate)} was revoked on {when:%Y-%m-%d %H:%M} UTC ({reason})", when
            )
        if response.certificate_status != ocsp.OCSPCertStatus.GOOD:
            raise StatusUnavailable(f"the OCSP responder does not know the certificate of {_who(certificate)}")
        return answer

    def _check_ocsp(self, response: ocsp.OCSPResponse, certificate: x509.Certificate) -> None:
        if response.serial_number != certificate.serial_number:
            raise StatusUnavailable(f"the OCSP answer is about another certificate than {_who(certificate)}'s")
        responder = next(iter(response.certificates), None)
        if responder is None:
            responder = self.issuing
        elif not _issued_by(responder, self.issuing) or ExtendedKeyUsageOID.OCSP_SIGNING not in _usages(responder):
            raise StatusUnavailable("the OCSP answer is signed by a responder the issuing CA did not delegate")
        try:
            _verify(responder, response.signature, response.tbs_response_bytes, response.signature_hash_algorithm)
        except InvalidSignature:
            raise StatusUnavailable(f"the OCSP answer about {_who(certificate)} does not verify") from None
        now = datetime.now(UTC)
        if response.this_update_utc > now + CLOCK_SKEW or (
            response.next_update_utc is not None and response.next_update_utc < now - CLOCK_SKEW
        ):
            raise StatusUnavailable(f"the OCSP answer about {_who(certificate)} is not current")

    async def issuing_ca_crl(self) -> bytes:
        url = _crl_url(self.issuing)
        answer = await self._fetch("GET", url)
        try:
            crl = x509.load_der_x509_crl(answer)
        except ValueError:
            raise StatusUnavailable("the root CA's CRL does not parse") from None
        if crl.issuer != self.root.subject or not crl.is_signature_valid(self.root.public_key()):  # type: ignore[arg-type]
            raise StatusUnavailable("the root CA's CRL does not verify")
        if crl.next_update_utc is not None and crl.next_update_utc < datetime.now(UTC) - CLOCK_SKEW:
            raise StatusUnavailable("the root CA's CRL is out of date")
        if (entry := crl.get_revoked_certificate_by_serial_number(self.issuing.serial_number)) is not None:
            raise Revoked("the issuing CA's certificate is revoked", entry.revocation_date_utc)
        return answer

    async def _fetch(self, method: str, url: str, **options: object) -> bytes:
        try:
            response = await self.client.request(method, url, **options)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            raise StatusUnavailable(f"the CA at {url} cannot be reached ({type(error).__name__})") from error
        if response.status_code != 200:
            raise StatusUnavailable(f"the CA at {url} answered {response.status_code}")
        return response.content


def _ocsp_url(certificate: x509.Certificate) -> str:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        raise StatusUnavailable(f"the certificate of {_who(certificate)} names no OCSP responder") from None
    for description in access:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)
    raise StatusUnavailable(f"the certificate of {_who(certificate)} names no OCSP responder")


def _crl_url(certificate: x509.Certificate) -> str:
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        raise StatusUnavailable("the issuing CA's certificate names no CRL") from None
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier):
                return name.value
    raise StatusUnavailable("the issuing CA's certificate names no CRL")


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _usages(certificate: x509.Certificate) -> list:
    try:
        return list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


def _verify(signer: x509.Certificate, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None) -> None:
    key = signer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or algorithm is None:
        raise InvalidSignature
    key.verify(signature, data, ec.ECDSA(algorithm))


def _who(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else base64.b16encode(certificate.fingerprint(hashes.SHA256())[:8]).decode()
