from services.runtime import ServiceSettings


class DigitisationSettings(ServiceSettings):
    http_port: int = 8002
