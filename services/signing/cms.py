"""The CMS signature inside a PAdES signature, assembled from parts encoded once per signatory.

pyHanko's own `Signer.async_sign` rebuilds every structure from Python values on each call and
asn1crypto re-encodes the certificates, the issuer name and the constant attributes each time:
that is most of a signature's CPU. The parts that do not change between two signatures of one
signatory (its certificate and chain, the signer identifier, the ESS signing-certificate-v2 and
algorithm-protection attributes) are encoded here once; per signature only the message digest,
the signature value and the timestamp token are new. The output is the same CMS pyHanko makes
for PAdES (content type, message digest, signing-certificate-v2, CMS algorithm protection as
signed attributes; the signature timestamp as the unsigned one), checked by pyHanko's validator
and poppler in the tests.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar

from asn1crypto import algos, cms
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .keys import Signatory

DIGEST = "sha256"
SIGNATURE_ALGORITHM = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
DIGEST_ALGORITHM = algos.DigestAlgorithm({"algorithm": DIGEST})
SIGNATURE_TIMESTAMP = "signature_time_stamp_token"
# the signature value the signer made last in this task (pyHanko's PdfSigner does not hand it back)
LAST_SIGNATURE: ContextVar[bytes | None] = ContextVar("last_signature", default=None)


class PreparedSigner(Signer):
    """A pyHanko signer for one signatory (its key signs; nothing else is asked of it)."""

    def __init__(self, signatory: Signatory, chain: list) -> None:  # chain: asn1crypto certificates, issuer first
        super().__init__(
            signing_cert=signatory.certificate,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=SIGNATURE_ALGORITHM,
        )
        self.signatory = signatory
        self.constant_attributes = [
            simple_cms_attribute("content_type", "data").dump(),
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(signatory.certificate)).dump(),
            simple_cms_attribute(
                "cms_algorithm_protection",
                cms.CMSAlgorithmProtection(
                    {"digest_algorithm": DIGEST_ALGORITHM, "signature_algorithm": SIGNATURE_ALGORITHM}
                ),
            ).dump(),
        ]
        self.certificates = cms.CertificateSet.load(
            cms.CertificateSet([signatory.certificate, *chain]).dump()
        )  # parsed from its bytes: encoded once, copied as is afterwards
        self.sid = cms.SignerIdentifier.load(
            cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": signatory.certificate.issuer,
                        "serial_number": signatory.certificate.serial_number,
                    }
                }
            ).dump()
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return bytes(72)  # the longest DER ECDSA P-256 signature
        return await self.signatory.key.sign(data)

    async def async_sign(  # type: ignore[override]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        **_: object,
    ) -> cms.ContentInfo:
        if digest_algorithm != DIGEST:
            raise ValueError(f"the signer digests with {DIGEST}, not {digest_algorithm}")
        digest = simple_cms_attribute("message_digest", data_digest).dump()
        # DER orders a SET OF by the encodings of its elements
        encoded = b"".join(sorted([*self.constant_attributes, digest]))
        signed_attributes = cms.CMSAttributes.load(_der(0x31, encoded))
        signature = await self.async_sign_raw(signed_attributes.dump(), DIGEST, dry_run)
        if not dry_run:
            LAST_SIGNATURE.set(signature)
        signer_info: dict[str, object] = {
            "version": "v1",
            "sid": self.sid,
            "digest_algorithm": DIGEST_ALGORITHM,
            "signed_attrs": signed_attributes,
            "signature_algorithm": SIGNATURE_ALGORITHM,
            "signature": signature,
        }
        if timestamper is not None:
            imprint = hashlib.sha256(signature).digest()
            token = await (
                timestamper.async_dummy_response(DIGEST) if dry_run else timestamper.async_timestamp(imprint, DIGEST)
            )
            signer_info["unsigned_attrs"] = cms.CMSAttributes([simple_cms_attribute(SIGNATURE_TIMESTAMP, token)])
        signed_data = {
            "version": "v1",
            "digest_algorithms": cms.DigestAlgorithms([DIGEST_ALGORITHM]),
            "encap_content_info": {"content_type": "data"},
            "certificates": self.certificates,
            "signer_infos": cms.SignerInfos([cms.SignerInfo(signer_info)]),
        }
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


def _der(tag: int, contents: bytes) -> bytes:
    """A DER element: tag, definite length, contents."""
    size = len(contents)
    if size < 0x80:
        return bytes([tag, size]) + contents
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + contents
