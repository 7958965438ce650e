from services.runtime import ServiceSettings


class RoutingSettings(ServiceSettings):
    http_port: int = 8004


settings = RoutingSettings()
