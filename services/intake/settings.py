from pathlib import Path

from services.runtime import ServiceSettings

DATA = Path(__file__).parent / "data"


class IntakeSettings(ServiceSettings):
    http_port: int = 8001
    # Key of the keyed hash (HMAC) under which identity numbers are stored for lookup.
    identity_hash_key: str = "change-me-in-deployment"
    max_component_bytes: int = 10 * 1024 * 1024
    # A province's own catalogue replaces the sample shipped here.
    catalogue_file: str = str(DATA / "procedures.json")
    # The public tracking page that receipt QR codes link to.
    public_url: str = "http://127.0.0.1:8001"
    # Public tracking look-ups allowed per client address and minute.
    tracking_per_minute: int = 20


settings = IntakeSettings()
