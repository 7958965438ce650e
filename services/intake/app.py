"""Intake (tiếp nhận): receives dossiers over HTTP and publishes `dossier.received`."""

from services.runtime import Service

from . import store
from .api import router
from .settings import settings

service = Service("intake", settings, api=router, on_start=store.create_indexes)
