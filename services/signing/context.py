"""What signing holds at hand while it runs: the signing keys' token, the CA certificates and
trust roots, the timestamp authority, the result templates, routing's approval key, and what
opens a signed result (the receipt-token key, the officials' token verifier)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, cast

import httpx
from asn1crypto import x509 as asn1_x509
from fastapi import Depends

from services.runtime import Runtime, get_context
from services.runtime.approvals import ApprovalVerifier
from services.runtime.auth import TokenVerifier
from services.runtime.certificates import read_certificates
from services.runtime.personal import PersonalData
from services.runtime.units import Units, load_units

from . import appearance, store
from .cms import PreparedSigner
from .document import ResultFacts, ResultTemplate, Templates
from .keys import Keys, Pkcs11Keys
from .pades import Mark
from .revocation import RevocationChecker, ValidationData, cryptography_certificate
from .settings import SigningSettings
from .timestamps import TimestampAuthority


@dataclass
class Signing:
    keys: Keys
    chain: list[asn1_x509.Certificate]  # the issuing CA (and any between it and the root)
    roots: list[asn1_x509.Certificate]
    timestamper: TimestampAuthority
    checker: RevocationChecker
    templates: Templates
    units: Units
    approvals: ApprovalVerifier  # routing's public key: only its approvals are acted on
    personal: PersonalData  # opens the holder's name routing sealed
    settings: SigningSettings
    verifier: TokenVerifier  # officials' access tokens
    client: httpx.AsyncClient
    receipt_key: bytes = field(repr=False)  # checks the receipt's access token that opens a result
    signers: dict[str, PreparedSigner] = field(default_factory=dict)

    def signer(self, label: str) -> PreparedSigner:
        """The prepared signer of `label` (`NoSignatory` if the token has none)."""
        if (known := self.signers.get(label)) is None:
            known = self.signers[label] = PreparedSigner(self.keys.signatory(label), self.chain)
        return known

    async def revocation_data(self, signers: list[PreparedSigner]) -> ValidationData:
        """The status of the signers' and the timestamp authority's certificates, now."""
        mine = [cryptography_certificate(s.signatory.certificate) for s in signers]
        return await self.checker.collect([*mine, *await self.timestamper.certificates()])

    def unit_name(self, code: str) -> str:
        unit = self.units.get(code)
        return unit.name if unit else code

    def template(self, record: dict[str, Any]) -> ResultTemplate:
        return self.templates.for_procedure(record.get("procedure_code"), record.get("field"))

    def facts(self, record: dict[str, Any], unit_name: str) -> ResultFacts:
        return ResultFacts(
            result_code=record["_id"],
            dossier_code=record["dossier_code"],
            procedure_code=record.get("procedure_code"),
            procedure_name=record.get("procedure_name") or record["title"],
            field=record.get("field"),
            title=record["title"],
            holder=record["holder"],
            unit_code=record["unit"],
            unit_name=unit_name,
            signer_name=record["approved_by"],
            approved_at=record["approved_at"],
            verify_url=self.verify_url(record["_id"]),
        )

    @property
    def fonts(self) -> tuple[Path, Path]:
        return Path(self.settings.pdf_font), Path(self.settings.pdf_bold_font)

    def leader_mark(self, signer: PreparedSigner) -> Mark:
        box = appearance.leader_box()
        return Mark(appearance.LEADER_FIELD, box, _leader_style(self.settings.pdf_font), signer, "Phê duyệt kết quả")

    def seal_mark(self, signer: PreparedSigner, unit_name: str) -> Mark:
        style = appearance.seal_style(unit_name, Path(self.settings.pdf_font))
        return Mark(appearance.SEAL_FIELD, appearance.seal_box(), style, signer, "Đóng dấu cơ quan")

    def verify_url(self, result_code: str) -> str:
        return f"{str(self.settings.public_url).rstrip('/')}/verify/{result_code}"

    async def aclose(self) -> None:
        await self.client.aclose()


@cache
def _leader_style(font: str) -> Any:
    return appearance.leader_style(Path(font))


async def start(
    runtime: Runtime[Signing], verifier: TokenVerifier | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> Signing:
    """Open the token and read the certificates (failing at start, not on the first signature);
    tests may pass their own token verifier and a transport reaching the CA and TSA in process."""
    settings = cast(SigningSettings, runtime.settings)
    await store.create_indexes(runtime)
    assert settings.pkcs11_pin is not None  # the settings check fills it or refuses to start
    keys = Pkcs11Keys(settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_pin.get_secret_value())
    chain = read_certificates(str(settings.ca_certificates_file))
    roots = read_certificates(str(settings.trust_roots_file))
    client = httpx.AsyncClient(timeout=settings.signing_timeout_s, transport=transport)
    checker = RevocationChecker(client, cryptography_certificate(chain[0]), cryptography_certificate(roots[0]))
    return Signing(
        keys=keys,
        chain=chain,
        roots=roots,
        timestamper=TimestampAuthority(str(settings.tsa_url), client),
        checker=checker,
        templates=Templates.load(),
        units=load_units(settings.units_file),
        approvals=ApprovalVerifier.load(Path(str(settings.approval_public_key_file))),
        personal=settings.personal_data(),
        settings=settings,
        verifier=verifier or TokenVerifier(str(settings.oidc_issuer), settings.oidc_audience),
        client=client,
        receipt_key=settings.receipt_key(),
    )


SigningDep = Annotated[Signing, Depends(get_context)]
