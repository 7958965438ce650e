"""Officials' authentication: OIDC-compatible access tokens (JWT) checked against the
identity provider's published keys.

`TokenVerifier` knows one issuer and one audience. On first use it reads the issuer's
discovery document (`{issuer}/.well-known/openid-configuration`), fetches the key set
named there (`jwks_uri`) and keeps the keys by key id (`kid`). A token signed with a key
it does not know makes it fetch the key set again, at most once per `refresh_interval`
(30 s): that is how a key rotation at the provider is picked up, without letting a
stream of forged key ids hammer the provider.

A token is accepted only if it is signed with RS256 or ES256 by one of the issuer's
keys (never "none", never a shared-secret HS* algorithm), names the issuer in `iss`,
carries the audience in `aud`, has a subject (`sub`), and is within its `iat`/`nbf`/`exp`
window (30 s leeway for clock skew). Every refusal is an `AuthError` whose message says
why; when the provider cannot be reached the error is `IdentityProviderUnavailable`
(a subclass), so an HTTP edge may answer 503 instead of 401.

The module knows nothing about who the officials are: it returns the token's claims and
leaves the mapping from `sub` to an official, a unit and permissions to the caller.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
from fastapi import HTTPException, Request

ALGORITHMS = ("RS256", "ES256")
"""Signature algorithms accepted. Asymmetric only: a service holds no secret that could sign."""

# PyJWT's errors, most specific first (InvalidSignatureError is a DecodeError, all are InvalidTokenError).
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidIssuedAtError, "invalid issued-at time (iat)"),
    (jwt.InvalidAlgorithmError, "signing algorithm not accepted"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.DecodeError, "malformed token"),
)


class AuthError(Exception):
    """A token was refused, or could not be checked; the message says why in plain words."""


class IdentityProviderUnavailable(AuthError):
    """The issuer's discovery document or key set could not be fetched or read."""


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience; keys are fetched and cached lazily.

    One instance per process is enough; it is safe to share between concurrent requests.
    `transport` replaces the network (tests pass `httpx.ASGITransport(app=issuer_app)`).
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        leeway: float = 30.0,
        refresh_interval: float = 30.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self.transport = transport  # how to reach the issuer: the network, or (tests) an app in process
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at: float | None = None  # time.monotonic() of the last attempt to fetch the key set
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid; `AuthError` with the reason otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthError(f"signing algorithm {algorithm!r} not accepted (only {', '.join(ALGORITHMS)})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token names no signing key (kid)")
        key = await self._key(kid)
        if key.algorithm_name != algorithm:  # e.g. an RSA key's kid on an ES256 token
            raise AuthError(f"token algorithm {algorithm} does not match its key ({key.algorithm_name})")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            reason = next((text for kind, text in _REASONS if isinstance(exc, kind)), f"invalid token ({exc})")
            raise AuthError(reason) from None
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise AuthError("token has no usable subject (sub)")
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        """The issuer's key `kid`, fetching the key set first if it was never fetched, or
        again if the key is unknown and the last fetch is older than `refresh_interval`."""
        if kid in self._keys:
            return self._keys[kid]
        seen = self._fetched_at
        async with self._lock:  # concurrent requests with a new kid share one fetch
            if kid not in self._keys and self._fetched_at == seen and self._may_fetch():
                await self._refresh()
        if kid in self._keys:
            return self._keys[kid]
        if not self._keys:  # another request's fetch just failed
            raise IdentityProviderUnavailable("identity provider unreachable (no signing keys loaded)")
        raise AuthError("unknown signing key")

    def _may_fetch(self) -> bool:
        if not self._keys:  # nothing to verify with: try every time rather than refuse everyone
            return True
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self.refresh_interval

    async def _refresh(self) -> None:
        """Fetch the discovery document (once) and the key set; replace the cached keys."""
        self._fetched_at = time.monotonic()
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            if self._jwks_uri is None:
                discovery = await self._get_json(client, f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
                if discovery.get("issuer") != self.issuer:
                    raise IdentityProviderUnavailable(
                        f"identity provider misconfigured: it calls itself {discovery.get('issuer')!r}, "
                        f"expected {self.issuer!r}"
                    )
                jwks_uri = discovery.get("jwks_uri")
                if not isinstance(jwks_uri, str) or not jwks_uri:
                    raise IdentityProviderUnavailable("identity provider misconfigured: no jwks_uri")
                self._jwks_uri = jwks_uri
            jwks = await self._get_json(client, self._jwks_uri)
        self._keys = _signing_keys(jwks)

    async def _get_json(self, client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            response = await client.get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityProviderUnavailable(f"identity provider unreachable ({url}: {_describe(exc)})") from exc
        if not isinstance(document, dict):
            raise IdentityProviderUnavailable(f"identity provider unreachable ({url}: not a JSON object)")
        return document


def _signing_keys(jwks: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable signature keys of a JWKS by kid; encryption keys, keys without a kid and
    keys of other algorithms (a provider may publish several) are left out."""
    entries = [
        entry
        for entry in jwks.get("keys") or []
        if isinstance(entry, dict) and entry.get("use", "sig") == "sig" and entry.get("kid")
    ]
    try:
        key_set = jwt.PyJWKSet(entries)
    except jwt.PyJWTError as exc:
        raise IdentityProviderUnavailable(f"identity provider publishes no usable signing key ({exc})") from None
    keys = {key.key_id: key for key in key_set if key.key_id and key.algorithm_name in ALGORITHMS}
    if not keys:
        raise IdentityProviderUnavailable(f"identity provider publishes no {' or '.join(ALGORITHMS)} signing key")
    return keys


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, ValueError):
        return "not JSON"
    return type(exc).__name__


def bearer_token(request: Request) -> str:
    """FastAPI dependency: the token of an `Authorization: Bearer <token>` header, else 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status_code=401,
            detail="an access token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def verified_claims(request: Request, verifier: TokenVerifier) -> dict[str, Any]:
    """The claims of the request's bearer token: 401 without a valid one, 503 if the identity
    provider cannot be reached."""
    try:
        return await verifier.verify(bearer_token(request))
    except IdentityProviderUnavailable as error:
        raise HTTPException(503, str(error)) from None
    except AuthError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


__all__ = ["ALGORITHMS", "AuthError", "IdentityProviderUnavailable", "TokenVerifier", "bearer_token", "verified_claims"]
