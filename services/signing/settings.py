from services.runtime import ServiceSettings


class SigningSettings(ServiceSettings):
    http_port: int = 8005
    # PEM private key of the competent agency's signing certificate; created on first start if missing.
    signing_key_file: str = "signing-key.pem"


settings = SigningSettings()
