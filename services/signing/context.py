"""What signing holds at hand while it runs: the agency's key and routing's approval key,
loaded at start, and what opens a signed result (the receipt-token key, officials' token verifier)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, cast

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends

from services.runtime import Runtime, get_context
from services.runtime.approvals import ApprovalVerifier
from services.runtime.auth import TokenVerifier
from services.runtime.settings import DEVELOPMENT

from . import domain, store
from .settings import SigningSettings


@dataclass(frozen=True)
class Signing:
    key: ec.EllipticCurvePrivateKey
    approvals: ApprovalVerifier  # routing's public key: only its approvals are signed
    receipt_key: bytes = field(repr=False)  # checks the receipt's access token that opens a result
    verifier: TokenVerifier  # officials' access tokens: any official may read results


async def start(runtime: Runtime[Signing], verifier: TokenVerifier | None = None) -> Signing:
    """Load the keys; a test may pass its own token verifier."""
    settings = cast(SigningSettings, runtime.settings)
    await store.create_indexes(runtime)
    # fail at start, not on the first dossier, if the key is missing or unreadable
    key = domain.load_key(Path(str(settings.signing_key_file)), create_if_missing=settings.profile == DEVELOPMENT)
    return Signing(
        key,
        ApprovalVerifier.load(Path(str(settings.approval_public_key_file))),
        receipt_key=settings.receipt_key(),
        verifier=verifier or TokenVerifier(str(settings.oidc_issuer), settings.oidc_audience),
    )


SigningDep = Annotated[Signing, Depends(get_context)]
