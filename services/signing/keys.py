"""The agency's signing key, loaded once per process."""

from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from . import domain
from .settings import settings


@cache
def signing_key() -> ec.EllipticCurvePrivateKey:
    return domain.load_or_create_key(Path(settings.signing_key_file))
