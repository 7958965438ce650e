"""Who is asking: the address of a request's client, the one rule every service uses.

The client is the connection's peer, unless the peer is one of the trusted proxies
(`MOTCUA_TRUSTED_PROXIES`, none by default): then it is the right-most address of the
`X-Forwarded-For` header that is not a trusted proxy. Everything to the left of that address
was written by the client itself and can say anything, so it is never believed. The HTTP
edge applies the rule once per request (`ClientAddresses`), so `request.client` is the real
client in every route; rate limits count per `client_group`, which puts an IPv6 client's
whole /64 network (what one subscriber is usually given) under one budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address
IPV6_GROUP_PREFIX = 64
UNKNOWN = "unknown"  # a request without an IP address (a Unix socket, a test transport)


def networks(addresses: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks (e.g. `10.0.0.0/8, 2001:db8::1`); ValueError if one is not."""
    return tuple(ip_network(item.strip(), strict=False) for item in addresses.split(",") if item.strip())


def parse_address(text: str | None) -> Address | None:
    """An IP address, an IPv4 client of a dual-stack listener as IPv4; None if `text` is not one."""
    try:
        address = ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str | None:
    """The request's client: the peer, or, if the peer is a trusted proxy, the right-most address
    of `X-Forwarded-For` (all such headers, in order, joined by commas) that is not one."""
    client = parse_address(peer)
    if client is None or not _trusted(client, trusted):
        return str(client) if client is not None else peer
    for hop in reversed((forwarded_for or "").split(",")):
        address = parse_address(hop)
        if address is None:
            break  # not an address: the chain of trusted proxies ends before it
        client = address
        if not _trusted(address, trusted):
            break
    return str(client)


def client_group(address: str | None) -> str:
    """What a rate limit counts: an IPv4 address, or an IPv6 address's /64 network."""
    parsed = parse_address(address)
    if parsed is None:
        return address or UNKNOWN
    if isinstance(parsed, IPv6Address):
        return str(ip_network(f"{parsed}/{IPV6_GROUP_PREFIX}", strict=False))
    return str(parsed)


def client_of(request: Request) -> str:
    """The rate-limit group of the request's client (its address as the edge resolved it)."""
    return client_group(request.client.host if request.client else None)


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


class ClientAddresses:
    """Sets each request's client (`scope["client"]`) by the rule above, before any route sees it."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app, self.trusted = app, tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            host, port = scope["client"]
            forwarded = ",".join(Headers(scope=scope).getlist("x-forwarded-for"))
            scope = {**scope, "client": (client_address(host, forwarded, self.trusted) or host, port)}
        await self.app(scope, receive, send)
