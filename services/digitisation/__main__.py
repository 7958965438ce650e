from services.runtime import run

from .app import service

run(service)
