"""What payment holds at hand while it runs: its settings, its gateways, the units, the officials'
token verifier and its counters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, cast

import httpx
from fastapi import Depends
from prometheus_client import Counter

from services.runtime import Runtime, get_context
from services.runtime.auth import TokenVerifier
from services.runtime.clients import Network, parse_address
from services.runtime.personal import PersonalData
from services.runtime.receipts import pay_token
from services.runtime.units import Units, load_units

from . import store
from .gateways import Gateway
from .gateways.platform import PlatformGateway
from .gateways.sorted_hmac import SortedHmacGateway
from .settings import PaymentSettings


@dataclass(frozen=True)
class Payments:
    settings: PaymentSettings
    gateways: Mapping[str, Gateway]  # by name; the first is where each payment is opened at once
    platform: PlatformGateway
    card: SortedHmacGateway
    units: Units
    personal: PersonalData  # seals the pay link for notification
    verifier: TokenVerifier  # officials' access tokens (counter payments, reconciliation)
    notices: Counter  # notifications taken, by gateway and what they did
    refused: Counter  # notifications refused, by the check they failed
    opened: Counter  # orders opened at a gateway
    refunds: Counter  # refunds paid back
    gateway_networks: tuple[Network, ...]  # where notifications may come from

    def from_gateway(self, host: str | None) -> bool:
        """True if a request from the address `host` may be a gateway's (one of its configured networks)."""
        address = parse_address(host)  # None: no address (e.g. a Unix socket) or not an IP address
        return address is not None and any(address in network for network in self.gateway_networks)

    @property
    def gateway_name(self) -> str:
        """The gateway each payment is opened at first."""
        return self.platform.name

    def pay_url(self, dossier_code: str) -> str:
        """The payment page's link, with the token that opens it (the citizen is sent this; gateways
        send the citizen's browser back to it, which proves nothing)."""
        token = pay_token(self.settings.receipt_key(), dossier_code)
        return f"{str(self.settings.public_url).rstrip('/')}/pay/{dossier_code}?token={token}"

    def unit_name(self, code: str) -> str:
        unit = self.units.get(code)
        return unit.name if unit else code

    async def aclose(self) -> None:
        """Called by the runtime at shutdown."""
        for gateway in self.gateways.values():
            await gateway.aclose()


def secret(value: object) -> str:
    return cast(str, value.get_secret_value())  # type: ignore[attr-defined]


def starter(transport: httpx.AsyncBaseTransport | None = None) -> Callable[[Runtime[Payments]], Awaitable[Payments]]:
    """Payment's start-up; `transport` replaces the network in tests (e.g. the gateway's app in process)."""

    async def start(runtime: Runtime[Payments]) -> Payments:
        settings = cast(PaymentSettings, runtime.settings)
        await store.create_indexes(runtime)

        def client(url: str | None) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=str(url), timeout=settings.gateway_timeout_s, transport=transport)

        assert settings.gateway_partner_code and settings.hmac_gateway_terminal and settings.hmac_gateway_url
        platform = PlatformGateway(
            client(settings.gateway_url), secret(settings.gateway_secret), settings.gateway_partner_code
        )
        card = SortedHmacGateway(
            client(settings.hmac_gateway_url),
            secret(settings.hmac_gateway_secret),
            settings.hmac_gateway_terminal,
            settings.hmac_gateway_url,
        )
        metrics = runtime.metrics
        return Payments(
            settings,
            {platform.name: platform, card.name: card},
            platform,
            card,
            load_units(settings.units_file),
            settings.personal_data(),
            TokenVerifier(str(settings.oidc_issuer), settings.oidc_audience),
            notices=metrics.counter("motcua_payment_notices", "Gateway notices taken, by what they did.", "result"),
            refused=metrics.counter(
                "motcua_payment_callbacks_refused", "Gateway notifications refused, by the check they failed.", "reason"
            ),
            opened=metrics.counter("motcua_payments_opened", "Orders opened at a gateway."),
            refunds=metrics.counter("motcua_payment_refunds", "Refunds paid back through a gateway."),
            gateway_networks=tuple(settings.gateway_networks),
        )

    return start


PaymentsDep = Annotated[Payments, Depends(get_context)]
