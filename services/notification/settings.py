from services.runtime import ServiceSettings


class NotificationSettings(ServiceSettings):
    http_port: int = 8006
