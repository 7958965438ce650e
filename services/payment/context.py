"""What payment holds at hand while it runs: its settings and its client of the gateway's API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, cast

import httpx
from fastapi import Depends
from prometheus_client import Counter

from services.runtime import Runtime, get_context
from services.runtime.clients import Network, parse_address

from . import store
from .settings import PaymentSettings


@dataclass(frozen=True)
class Payments:
    settings: PaymentSettings
    gateway: httpx.AsyncClient  # the gateway's API, at `settings.gateway_url`
    callbacks: Counter  # callbacks accepted, by what they did
    refused: Counter  # callbacks refused, by the check they failed
    opened: Counter  # transactions opened at the gateway
    gateway_networks: tuple[Network, ...]  # where callbacks may come from

    @property
    def secret(self) -> str:
        """The secret shared with the gateway (always set: the settings refuse to start without it)."""
        assert self.settings.gateway_secret is not None
        return self.settings.gateway_secret.get_secret_value()

    def from_gateway(self, host: str | None) -> bool:
        """True if a request from the address `host` may be the gateway's (one of its configured networks)."""
        address = parse_address(host)  # None: no address (e.g. a Unix socket) or not an IP address
        return address is not None and any(address in network for network in self.gateway_networks)

    @property
    def gateway_name(self) -> str:
        """The gateway as `payment.requested` names it."""
        return self.settings.gateway_name

    async def aclose(self) -> None:
        """Called by the runtime at shutdown."""
        await self.gateway.aclose()


def starter(transport: httpx.AsyncBaseTransport | None = None) -> Callable[[Runtime[Payments]], Awaitable[Payments]]:
    """Payment's start-up; `transport` replaces the network in tests (e.g. the gateway's app in process)."""

    async def start(runtime: Runtime[Payments]) -> Payments:
        settings = cast(PaymentSettings, runtime.settings)
        await store.create_indexes(runtime)
        client = httpx.AsyncClient(
            base_url=str(settings.gateway_url), timeout=settings.gateway_timeout_s, transport=transport
        )
        metrics = runtime.metrics
        return Payments(
            settings,
            client,
            callbacks=metrics.counter("motcua_payment_callbacks", "Gateway callbacks accepted, by result.", "result"),
            refused=metrics.counter(
                "motcua_payment_callbacks_refused", "Gateway callbacks refused, by the check they failed.", "reason"
            ),
            opened=metrics.counter("motcua_payments_opened", "Payments opened at the gateway (INIT)."),
            gateway_networks=tuple(settings.gateway_networks),
        )

    return start


PaymentsDep = Annotated[Payments, Depends(get_context)]
