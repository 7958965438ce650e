from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from services.runtime import ServiceSettings

from . import domain


class SigningSettings(ServiceSettings):
    http_port: int = 8005
    # PEM private key of the competent agency's signing certificate; created on first start if missing.
    signing_key_file: str = "signing-key.pem"


settings = SigningSettings()


@cache
def signing_key() -> ec.EllipticCurvePrivateKey:
    """The agency's signing key, loaded once per process."""
    return domain.load_or_create_key(Path(settings.signing_key_file))
