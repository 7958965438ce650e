"""The app factory: one composition root that every service uses.

A service declares what it is (`Service`): its handlers (one per event type), its HTTP
routers, the reference data it builds at start (`context`) and its background jobs.
`run()` wires the shared parts: settings, logs, tracing, its database, the Kafka broker,
the outbox relay, the event consumer, worker processes and the HTTP edge with /health,
/ready and /metrics. Tests build the same `Runtime` on an in-memory database and
FastStream's test broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.security import SASLScram512
from motcua_contracts import Event
from opentelemetry import trace
from pydantic import ValidationError

from .consumer import EventConsumer, Handler
from .documents import Documents, MongoDocuments, Writer
from .files import Files, MongoFiles
from .logs import setup_logging
from .metrics import Metrics
from .outbox import OutboxRelay
from .settings import DEVELOPMENT, ServiceSettings
from .store import Pending, Tx
from .telemetry import setup_tracing
from .web import answers, edge
from .workers import Workers

log = logging.getLogger(__name__)
T = TypeVar("T")
C = TypeVar("C")
READY_TIMEOUT_S = 2.0  # a readiness probe answers within this, whatever is down


@dataclass
class Service(Generic[C]):
    """What a service is: its name, settings, event handlers, HTTP routers, reference data and jobs."""

    name: str
    settings: ServiceSettings
    handlers: Mapping[type[Event], Handler] = field(default_factory=dict)
    routers: Sequence[APIRouter] = ()
    # Builds the service's reference data and collaborators at start (handlers get it as `context`).
    context: Callable[[Runtime[C]], Awaitable[C]] | None = None
    background: Sequence[Callable[[Runtime[C]], Awaitable[None]]] = ()
    # Collection of per-dossier state (keyed by dossier code) that handlers `load`/`save`;
    # the consumer reads a whole batch's documents in one round trip.
    state: str | None = None


def kafka_security(settings: ServiceSettings, service: str) -> SASLScram512:
    """The service's own broker user: it may publish only on its topics (SASL/SCRAM-SHA-512)."""
    assert settings.kafka_password is not None  # required: checked when settings load
    tls = None
    if settings.kafka_security_protocol == "SASL_SSL":
        tls = ssl.create_default_context(cafile=settings.kafka_ca_file)
    return SASLScram512(
        settings.kafka_username or service,
        settings.kafka_password.get_secret_value(),
        ssl_context=tls,
        use_ssl=tls is not None,
    )


def kafka_client(settings: ServiceSettings, service: str) -> dict[str, Any]:
    """The same user's settings for a plain aiokafka client (a job that reads topics itself)."""
    security = kafka_security(settings, service)
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": security.username,
        "sasl_plain_password": security.password,
        "ssl_context": security.ssl_context,
    }


class Runtime(Generic[C]):
    """The live parts of a running service, handed to its HTTP routes and background jobs."""

    def __init__(self, service: Service[C], documents: Documents | None = None, files: Files | None = None) -> None:
        self.service = service
        self.name = service.name
        self.settings = service.settings
        self.documents: Documents = documents or MongoDocuments(
            self.settings.mongo_url, self.settings.database_name(service.name)
        )
        # The file store, for the services whose settings name it (FileStore).
        database = getattr(self.settings, "files_database", None)
        self._files = files or (MongoFiles(self.settings.mongo_url, database) if database else None)
        self.metrics = Metrics(service.name)
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap,
            security=kafka_security(self.settings, service.name),
            client_id=f"motcua-{service.name}",
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            middlewares=(self.metrics.kafka_middleware(),),
            logger=logging.getLogger(f"faststream.{service.name}"),
        )
        self.relay = OutboxRelay(self.documents, self.broker, self.metrics, service.name)
        self.consumer = EventConsumer(
            service.name,
            service.handlers,
            self.documents,
            self.broker,
            self.relay,
            self.settings,
            self.metrics,
            lambda: self.context,
            service.state,
        )
        self.consumer.subscribe()
        self.workers = Workers(getattr(self.settings, "workers", 1))
        self.tracer = trace.get_tracer(f"motcua.{service.name}")
        self._context: C | None = None
        self._context_built = service.context is None
        self.started = False

    @property
    def files(self) -> Files:
        """The content-addressed file store (only services with the `FileStore` settings have one)."""
        if self._files is None:
            raise RuntimeError(f"{self.name} has no file store: its settings lack FileStore")
        return self._files

    @property
    def context(self) -> C:
        """The service's reference data, built by `start()`."""
        if not self._context_built:
            raise RuntimeError(f"{self.name} has not started: its reference data is not loaded")
        return self._context  # type: ignore[return-value]

    async def start(self) -> None:
        """Reach the database and build the reference data (before any event or request is served)."""
        await self.documents.ping()
        if self.service.context is not None:
            self._context = await self.service.context(self)
            self._context_built = True

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` (state changes + `tx.emit`) in one transaction, then wake the relay."""
        pending = Pending()

        async def in_transaction(writer: Writer) -> T:
            pending.clear()
            result = await work(Tx(writer, self.name, None, pending))
            await pending.flush(writer)
            return result

        result = await self.documents.transaction(in_transaction)
        if pending.outbox:
            self.relay.notify()
        return result

    async def ready(self) -> dict[str, str]:
        checks = {"mongodb": "ok", "kafka": "ok", "started": "ok" if self.started else "starting"}
        try:
            await asyncio.wait_for(self.documents.ping(), READY_TIMEOUT_S)
        except Exception as exc:
            checks["mongodb"] = f"unavailable: {type(exc).__name__}"
        if not await self.broker.ping(timeout=READY_TIMEOUT_S):
            checks["kafka"] = "unavailable"
        return checks

    async def stop(self) -> None:
        """Release what the service holds: its context's resources (an `aclose()` it offers), worker
        processes, the file store's connections."""
        if (aclose := getattr(self._context, "aclose", None)) is not None:
            await aclose()
        self.workers.close()
        if self._files is not None:
            await self._files.close()


def get_runtime(request: Request) -> Runtime[Any]:
    return request.app.state.runtime


def get_context(request: Request) -> Any:
    """FastAPI dependency: the service's reference data (annotate it with the service's own type)."""
    return request.app.state.runtime.context


RuntimeDep = Annotated[Runtime[Any], Depends(get_runtime)]


def http_app(runtime: Runtime[Any]) -> FastAPI:
    app = edge(runtime.name, runtime.settings)
    app.state.runtime = runtime

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": runtime.name}

    @app.get("/ready", tags=["operations"], responses=answers(503))
    async def ready() -> JSONResponse:
        """Readiness: started, database and broker reachable."""
        checks = await runtime.ready()
        ok = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "service": runtime.name, "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus metrics: events received, handled, published and dead-lettered, and the service's own."""
        body, content_type = runtime.metrics.exposition()
        return Response(body, media_type=content_type)

    for router in runtime.service.routers:
        app.include_router(router)
    return app


async def serve(service: Service[Any]) -> None:
    settings = service.settings
    setup_logging(service.name, settings.log_level)
    if settings.profile == DEVELOPMENT:
        log.warning(
            "development profile: not for a deployment",
            extra={"fields": {"development_values": [f"MOTCUA_{n.upper()}" for n in settings.development_defaults]}},
        )
    provider = setup_tracing(service.name, settings)
    runtime = Runtime(service)
    server = uvicorn.Server(
        uvicorn.Config(
            http_app(runtime),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            proxy_headers=False,  # the edge decides who the client is, from MOTCUA_TRUSTED_PROXIES only
        )
    )
    tasks: list[asyncio.Task] = []
    try:
        await runtime.start()
        if hasattr(settings, "workers"):  # a service with CPU-heavy work: its workers are ready first
            await runtime.workers.warm_up()
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
        await runtime.stop()
        await runtime.documents.close()
        provider.shutdown()
        log.info("service stopped")


def run(create: Callable[[], Service[Any]]) -> None:
    """Entry point of every service process (`python -m services.<name>`): build, check settings, serve."""
    try:
        service = create()
    except ValidationError as error:
        problems = "; ".join(_problem(e) for e in error.errors(include_url=False, include_input=False))
        print(f"motcua: cannot start: {problems}", file=sys.stderr)
        sys.exit(2)
    asyncio.run(serve(service))


def _problem(error: Any) -> str:
    message = error["msg"].removeprefix("Value error, ")
    return f"MOTCUA_{'_'.join(map(str, error['loc'])).upper()}: {message}" if error["loc"] else message
