from pathlib import Path

from services.runtime import ServiceSettings

DATA = Path(__file__).parent / "data"


class IntakeSettings(ServiceSettings):
    http_port: int = 8001
    # Key of the keyed hash (HMAC) under which identity numbers are stored for lookup.
    identity_hash_key: str = "change-me-in-deployment"
    max_component_bytes: int = 10 * 1024 * 1024
    # A province's own catalogue and units replace the samples shipped here.
    catalogue_file: str = str(DATA / "procedures.json")
    units_file: str = str(DATA / "units.json")


settings = IntakeSettings()
