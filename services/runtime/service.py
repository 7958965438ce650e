"""The app factory: one composition root that every service uses.

A service declares what it is (`Service`); `run()` wires the shared parts:
settings, logs, tracing, its database, the Kafka broker, the outbox relay, the
event consumer, background jobs and the HTTP edge with /health and /ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from motcua_contracts import Event
from opentelemetry import trace
from pymongo.asynchronous.client_session import AsyncClientSession

from .consumer import EventConsumer, Handler
from .logs import setup_logging
from .outbox import OutboxRelay
from .settings import ServiceSettings
from .store import Pending, Store, Tx
from .telemetry import setup_tracing

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Service:
    """What a service is: its name, settings, event handlers, HTTP API and jobs."""

    name: str
    settings: ServiceSettings
    handlers: Mapping[type[Event], Handler] = field(default_factory=dict)
    api: APIRouter | None = None
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    background: Sequence[Callable[[Runtime], Awaitable[None]]] = ()
    # Collection of per-dossier state (keyed by dossier code) that handlers `load`/`save`;
    # the consumer reads a whole batch's documents in one round trip.
    state: str | None = None


class Runtime:
    """The live parts of a running service, handed to its API and background jobs."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.name = service.name
        self.settings = service.settings
        self.store = Store(self.settings.mongo_url, self.settings.database_name(service.name))
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap,
            client_id=f"motcua-{service.name}",
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            logger=logging.getLogger(f"faststream.{service.name}"),
        )
        self.relay = OutboxRelay(self.store.db, self.broker)
        self.consumer = EventConsumer(
            service.name, service.handlers, self.store, self.broker, self.relay, self.settings, service.state
        )
        self.tracer = trace.get_tracer(f"motcua.{service.name}")
        self.started = False

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` (state changes + `tx.emit`) in one transaction, then wake the relay."""
        pending = Pending()

        async def in_session(session: AsyncClientSession) -> T:
            pending.clear()
            result = await work(Tx(session, self.store.db, self.name, None, pending))
            await pending.flush(self.store.db, session)
            return result

        result = await self.store.transaction(in_session)
        if pending.outbox:
            self.relay.notify()
        return result

    async def ready(self) -> dict[str, str]:
        checks = {"mongodb": "ok", "kafka": "ok", "started": "ok" if self.started else "starting"}
        try:
            await asyncio.wait_for(self.store.ping(), 2)
        except Exception as exc:
            checks["mongodb"] = f"unavailable: {type(exc).__name__}"
        if not await self.broker.ping(timeout=2):
            checks["kafka"] = "unavailable"
        return checks


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def http_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title=f"motcua {runtime.name}", version="0.1.0")
    app.state.runtime = runtime
    limit = runtime.settings.max_body_bytes

    @app.middleware("http")
    async def refuse_oversized_bodies(request: Request, call_next: Callable) -> Response:
        length = request.headers.get("content-length")
        if request.method in ("POST", "PUT", "PATCH") and length is None:
            return JSONResponse({"detail": "a Content-Length header is required"}, status_code=411)
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)
        return await call_next(request)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": runtime.name}

    @app.get("/ready", tags=["operations"])
    async def ready() -> JSONResponse:
        """Readiness: started, database and broker reachable."""
        checks = await runtime.ready()
        ok = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "service": runtime.name, "checks": checks},
            status_code=200 if ok else 503,
        )

    if runtime.service.api is not None:
        app.include_router(runtime.service.api)
    return app


async def serve(service: Service) -> None:
    settings = service.settings
    setup_logging(service.name, settings.log_level)
    provider = setup_tracing(service.name, settings)
    runtime = Runtime(service)
    server = uvicorn.Server(
        uvicorn.Config(http_app(runtime), host=settings.http_host, port=settings.http_port, log_config=None)
    )
    tasks: list[asyncio.Task] = []
    try:
        await runtime.store.ping()
        if service.on_start:
            await service.on_start(runtime)
        runtime.consumer.subscribe()
        await runtime.broker.start()
        tasks.append(asyncio.create_task(runtime.relay.run(), name="outbox-relay"))
        tasks += [asyncio.create_task(job(runtime), name=job.__name__) for job in service.background]
        runtime.started = True
        log.info("service started", extra={"fields": {"port": settings.http_port}})
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await runtime.broker.stop()
        await runtime.store.close()
        provider.shutdown()
        log.info("service stopped")


def run(service: Service) -> None:
    """Entry point of every service process (`python -m services.<name>`)."""
    asyncio.run(serve(service))
