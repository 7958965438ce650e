"""What digitisation holds at hand while it runs: its settings and file limits, the checker of
officials' tokens, the roots officers' scan signatures must chain to, what opens a dossier's
files for its owner (the receipt-token key) and whose a dossier is (the personal-data key),
and the per-client budget of uploads. Handlers get it as `context`, routes through `DigitisationDep`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from asn1crypto import x509 as asn1_x509
from fastapi import Depends

from services.runtime import Runtime, get_context
from services.runtime.auth import TokenVerifier
from services.runtime.certificates import read_certificates
from services.runtime.files import Files
from services.runtime.limits import PerWindow, limited_counter
from services.runtime.personal import PersonalData
from services.runtime.workers import Workers

from . import store
from .checks import Limits
from .settings import DigitisationSettings

UPLOAD_WINDOW_S = 60


@dataclass
class Digitisation:
    settings: DigitisationSettings
    limits: Limits
    verifier: TokenVerifier  # officials' access tokens
    roots: list[asn1_x509.Certificate]  # officers' scan signatures chain to these
    personal: PersonalData  # opens the owner of a dossier
    uploads: PerWindow  # uploads per client and minute, shared by every replica
    files: Files  # the file store
    ocr: Workers  # OCR's own worker processes: a backlog of scans never delays a request's checks
    receipt_key: bytes = field(repr=False)  # opens a dossier's files for its owner, makes upload tokens

    async def aclose(self) -> None:
        self.ocr.close()


async def start(runtime: Runtime[Any], verifier: TokenVerifier | None = None) -> Digitisation:
    settings = cast(DigitisationSettings, runtime.settings)
    await store.create_indexes(runtime)
    uploads = PerWindow(
        runtime.documents,
        "uploads_per_minute",
        settings.uploads_per_minute,
        UPLOAD_WINDOW_S,
        limited_counter(runtime.metrics),
        runtime.name,
    )
    await uploads.prepare()
    return Digitisation(
        settings=settings,
        limits=settings.limits(),
        verifier=verifier or TokenVerifier(str(settings.oidc_issuer), settings.oidc_audience),
        roots=read_certificates(str(settings.trust_roots_file)),
        personal=settings.personal_data(),
        uploads=uploads,
        files=runtime.files,
        ocr=Workers(settings.ocr_workers),
        receipt_key=settings.receipt_key(),
    )


DigitisationDep = Annotated[Digitisation, Depends(get_context)]
