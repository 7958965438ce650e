"""A development OIDC issuer: signs officials' access tokens (JWT, RS256) for a local stack.

DEVELOPMENT ONLY. It issues a token to anyone who asks, for any user name, with no
password check. A deployment never runs it: services are pointed
(`MOTCUA_OIDC_ISSUER`) at the province's identity provider (e.g. Keycloak) instead,
which publishes the same discovery document and key set.

    python -m infra.issuer        # normally started by `motcua up` as the process "issuer"

Environment:
    MOTCUA_ISSUER_URL       the issuer's own URL, the `iss` of its tokens (default http://127.0.0.1:<port>)
    MOTCUA_HTTP_PORT        port on 127.0.0.1 (default 8009)
    MOTCUA_ISSUER_KEY_FILE  RSA private key, PEM; created on first start
                            (default .data/dev/keys/issuer-key.pem)

Endpoints: `GET /.well-known/openid-configuration`, `GET /jwks.json`, `POST /token`
(form or JSON: `username`, optional `name`, `audience` (default "motcua"), `expires_in`
(seconds, default 3600, at most 86400)), `GET /health`, `GET /ready`.
The key id is the key's RFC 7638 thumbprint, so it stays the same across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, HTTPException, Request

DEFAULT_PORT = 8009
DEFAULT_KEY_FILE = Path(".data") / "dev" / "keys" / "issuer-key.pem"
DEFAULT_AUDIENCE = "motcua"
DEFAULT_EXPIRES_IN = 3600
MAX_EXPIRES_IN = 86400
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """The issuer's RSA key from `path` (PEM), or a new 2048-bit one written there."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SystemExit(f"{path}: the issuer key must be an RSA private key")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The public half as a JWK, named by its RFC 7638 thumbprint."""
    numbers = key.public_key().public_numbers()
    members = {"e": _b64_uint(numbers.e), "kty": "RSA", "n": _b64_uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**members, "kid": kid, "use": "sig", "alg": "RS256"}


def _b64_uint(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def create_app(issuer_url: str, key_file: Path) -> FastAPI:
    """The issuer's HTTP app; the key is loaded (or created) now."""
    key = load_or_create_key(key_file)
    jwk = public_jwk(key)
    app = FastAPI(title="motcua development issuer", version="0.1.0")

    @app.get("/.well-known/openid-configuration", tags=["oidc"])
    async def discovery() -> dict[str, Any]:
        """OIDC discovery: where the keys and the token endpoint are."""
        return {
            "issuer": issuer_url,
            "jwks_uri": f"{issuer_url}/jwks.json",
            "token_endpoint": f"{issuer_url}/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "grant_types_supported": ["password"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["token"],
        }

    @app.get("/jwks.json", tags=["oidc"])
    async def jwks() -> dict[str, Any]:
        """The public key that verifies this issuer's tokens."""
        return {"keys": [jwk]}

    @app.post("/token", tags=["oidc"])
    async def token(request: Request) -> dict[str, Any]:
        """A signed access token for whoever asks (no password check: development only)."""
        fields = await _form(request)
        grant_type = fields.get("grant_type", "password")
        if grant_type != "password":
            raise HTTPException(400, f"unsupported grant_type {grant_type!r} (only 'password')")
        username = fields.get("username", "")
        if not USERNAME.fullmatch(username):
            raise HTTPException(422, "username must be 1–64 characters of letters, digits, '.', '_' or '-'")
        audience = fields.get("audience") or DEFAULT_AUDIENCE
        if len(audience) > 256:
            raise HTTPException(422, "audience must be at most 256 characters")
        try:
            expires_in = int(fields.get("expires_in") or DEFAULT_EXPIRES_IN)
        except ValueError:
            raise HTTPException(422, "expires_in must be a whole number of seconds") from None
        if not 1 <= expires_in <= MAX_EXPIRES_IN:
            raise HTTPException(422, f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer_url,
            "sub": username,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
        }
        if name := fields.get("name"):
            claims["name"] = name[:200]
        access_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": jwk["kid"]})
        return {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": "issuer"}

    @app.get("/ready", tags=["operations"])
    async def ready() -> dict[str, str]:
        """Readiness: the key is loaded, so tokens can be issued."""
        return {"status": "ready", "service": "issuer", "kid": jwk["kid"]}

    return app


async def _form(request: Request) -> dict[str, str]:
    """The request's fields from a JSON object or an `application/x-www-form-urlencoded` body
    (parsed here: FastAPI's own form parsing needs python-multipart)."""
    body = await request.body()
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise HTTPException(422, "body is not valid JSON") from None
        if not isinstance(data, dict):
            raise HTTPException(422, "body must be a JSON object")
        return {name: str(value) for name, value in data.items() if value is not None}
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise HTTPException(422, "form body is not UTF-8") from None
    return {name: values[0] for name, values in parsed.items()}


def main() -> None:
    port = int(os.environ.get("MOTCUA_HTTP_PORT", DEFAULT_PORT))
    issuer_url = os.environ.get("MOTCUA_ISSUER_URL", f"http://127.0.0.1:{port}").rstrip("/")
    key_file = Path(os.environ.get("MOTCUA_ISSUER_KEY_FILE", DEFAULT_KEY_FILE))
    uvicorn.run(create_app(issuer_url, key_file), host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main()
