from services.runtime import ServiceSettings


class StatsSettings(ServiceSettings):
    http_port: int = 8007
    province_code: str = "H40"
    snapshot_every_s: float = 10.0
