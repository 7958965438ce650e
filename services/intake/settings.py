from services.runtime import ServiceSettings


class IntakeSettings(ServiceSettings):
    http_port: int = 8001
    # Key of the keyed hash (HMAC) under which identity numbers are stored for lookup.
    identity_hash_key: str = "change-me-in-deployment"
    max_component_bytes: int = 10 * 1024 * 1024


settings = IntakeSettings()
