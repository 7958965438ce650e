from services.runtime import ServiceSettings
from services.runtime.settings import PersonalDataKey


class NotificationSettings(ServiceSettings, PersonalDataKey):
    http_port: int = 8006
