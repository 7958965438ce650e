"""The HTTP edge every service shares: the rules for every request and answer, whatever the route.

- **Bodies.** A POST, PUT or PATCH names its length (411 otherwise) and is no larger than
  `MOTCUA_MAX_BODY_BYTES` (413, unread). A JSON body is UTF-8 JSON with finite numbers only:
  NaN, Infinity, -Infinity or a number beyond a float's range is a 422 before any route runs
  (Python's parser takes them, no JSON answer can carry them back, no store should keep them).
- **Answers.** Every answer carries the security headers; an HTML page's own inline script and
  style are allowed by their hashes, nothing else inline is.
- **Failures.** A validation error says where and what, never the values sent; an unexpected
  error is a 500 whose log line has the error's types and frames, never its messages, which may
  quote the request (an identity number).
- **Clients.** A request's client is its connection's peer, or the client a trusted proxy names
  (`clients.py`); routes read it as `request.client`.
- **Documentation.** `/docs`, `/redoc` and `/openapi.json` exist in the development profile only.
  A route declares the error statuses it answers with `answers(...)`; the runtime adds those it
  answers itself (411, 413 and 422 on requests with a body).
"""

from __future__ import annotations

import base64
import email.message
import hashlib
import json
import logging
import math
import re
from typing import Any, NoReturn

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clients import ClientAddresses
from .logs import redacted
from .settings import DEVELOPMENT, ServiceSettings

log = logging.getLogger(__name__)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
NOT_FINITE = "JSON numbers must be finite: NaN, Infinity, -Infinity and numbers beyond a float's range are refused"

# --- documentation --------------------------------------------------------------------------


class FieldProblem(BaseModel):
    type: str
    loc: list[str | int]
    msg: str


class ErrorAnswer(BaseModel):
    """Every error answer: `detail` says why, as a sentence, the request's problems by field, or a
    message with the service's own list of problems."""

    detail: str | list[FieldProblem] | dict[str, Any]


REASONS = {
    400: "The request breaks one of the service's rules; `detail` says which.",
    401: "No valid credentials: an official's bearer token, a gateway's checksum.",
    403: "Valid credentials that do not allow this.",
    404: "Not found, or not the asker's to see.",
    409: "The current state does not allow it, or an idempotency key was used for another request.",
    410: "It was possible once and no longer is (e.g. a payment link past its deadline).",
    411: "A request body without a Content-Length header.",
    413: "The request body, or a file in it, is larger than allowed.",
    415: "A file of a type the service does not take.",
    422: "The request is not valid (NaN and Infinity included): the problems by field, never the values sent.",
    429: "Too many requests from this client: retry after `Retry-After` seconds.",
    502: "An outside party (e.g. a payment gateway) answered, and refused.",
    503: "The service is busy, or something it depends on cannot be reached now: retry later (after `Retry-After` seconds when given).",
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: the error statuses it answers, each with the one error body."""
    return {status: {"model": ErrorAnswer, "description": REASONS[status]} for status in statuses}


def _with_runtime_answers(schema: dict[str, Any]) -> None:
    """Declare what the runtime answers itself, with `ErrorAnswer` for every 422 (FastAPI's own
    validation error schema would promise the values sent)."""
    error = TypeAdapter(ErrorAnswer).json_schema(ref_template="#/components/schemas/{model}")
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(error.pop("$defs", {}), ErrorAnswer=error)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    answer = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            statuses = [411, 413] if method.upper() in BODY_METHODS else []
            if "422" in responses or "requestBody" in operation:
                statuses.append(422)
            for status in statuses:
                responses[str(status)] = {"description": REASONS[status]} | answer


def edge(name: str, settings: ServiceSettings) -> FastAPI:
    """A service's FastAPI app with the shared rules; its API documented in the development profile only."""
    development = settings.profile == DEVELOPMENT
    app = FastAPI(
        title=f"motcua {name}",
        version="0.1.0",
        openapi_url="/openapi.json" if development else None,
        docs_url="/docs" if development else None,
        redoc_url="/redoc" if development else None,
    )
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_middleware(RequestBodies, limit=settings.max_body_bytes)
    app.add_middleware(ClientAddresses, trusted=settings.trusted_networks)  # who asks, for every route
    app.add_middleware(Hygiene, docs=frozenset(p for p in (app.docs_url, app.redoc_url) if p))  # outermost
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _with_runtime_answers(generate())  # FastAPI keeps the schema it generates; completed in place
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()]
    return JSONResponse({"detail": problems}, status_code=422)


def _refusal(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


# --- request bodies --------------------------------------------------------------------------


class _NotFinite(ValueError):
    pass


def _constant(name: str) -> NoReturn:
    raise _NotFinite(name)


def _float(text: str) -> float:
    if not math.isfinite(number := float(text)):
        raise _NotFinite("out of range")
    return number


def json_problem(body: bytes) -> dict[str, Any] | None:
    """What makes a JSON body unusable, if anything: not JSON in UTF-8, or a number JSON cannot
    carry back (NaN, Infinity, -Infinity, one that overflows a float)."""
    try:
        json.loads(body, parse_constant=_constant, parse_float=_float)
    except _NotFinite:
        return {"type": "finite_number", "loc": ["body"], "msg": NOT_FINITE}
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, nested too deep, too many digits
        reason = error.msg if isinstance(error, json.JSONDecodeError) else type(error).__name__
        return {"type": "json_invalid", "loc": ["body"], "msg": f"the body is not JSON: {reason}"}
    return None


def is_json(content_type: str | None) -> bool:
    """The content types FastAPI parses as JSON (it reads no other body as JSON)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class RequestBodies:
    """Bodies with a length, within the limit, and (JSON) with finite numbers only."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is None:
            if scope["method"] in BODY_METHODS:
                return await _refusal(411, "a Content-Length header is required")(scope, receive, send)
            return await self.app(scope, receive, send)
        if not re.fullmatch("[0-9]{1,20}", length) or int(length) > self.limit:
            return await _refusal(413, f"request body larger than {self.limit} bytes")(scope, receive, send)
        if int(length) == 0 or not is_json(headers.get("content-type")):
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(chunk := message.get("body", b""))
            size, more = size + len(chunk), message.get("more_body", False)
            if size > self.limit:
                return await _refusal(413, f"request body larger than {self.limit} bytes")(scope, receive, send)
        body = b"".join(chunks)
        if problem := json_problem(body):
            return await _refusal(422, [problem])(scope, receive, send)
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read once more, then whatever the client sends next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> Message:
        return pending.pop() if pending else await receive()

    return again


# --- answers -----------------------------------------------------------------------------------

POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
# Swagger UI and ReDoc (development only) come from a CDN and style themselves inline.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' https://cdn.jsdelivr.net {scripts}; "
    "style-src 'self' https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src 'self' https://fonts.gstatic.com; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # answers carry personal data: no cache keeps them
}
INLINE = {kind: re.compile(rf"<{kind}(?![^>]*\bsrc=)[^>]*>(.*?)</{kind}>", re.S | re.I) for kind in ("script", "style")}


def _hashes(page: str, kind: str) -> str:
    found = {hashlib.sha256(block.encode()).digest() for block in INLINE[kind].findall(page)}
    return " ".join(f"'sha256-{base64.b64encode(digest).decode()}'" for digest in sorted(found))


def page_policy(page: bytes, docs: bool = False) -> str:
    """The page's Content-Security-Policy: its own inline scripts and styles by hash, nothing else inline."""
    text = page.decode("utf-8", errors="replace")
    if docs:
        return DOCS_POLICY.format(scripts=_hashes(text, "script"))
    sources = [f"{kind}-src 'self' {hashes}" for kind in ("script", "style") if (hashes := _hashes(text, kind))]
    return "; ".join([POLICY, *sources])


def _secure(start: Message, policy: str) -> None:
    headers = MutableHeaders(scope=start)
    for name, value in {"Content-Security-Policy": policy, **HEADERS}.items():
        headers.setdefault(name, value)


class Hygiene:
    """Security headers on every answer; an unexpected error is a 500, logged without the request."""

    def __init__(self, app: ASGIApp, docs: frozenset[str] = frozenset()) -> None:
        self.app, self.docs = app, docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False
        page: list[Message] = []  # an HTML page's start and body, held until its hashes are known

        async def secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if Headers(raw=message["headers"]).get("content-type", "").startswith("text/html"):
                    page.append(message)
                    return
                _secure(message, POLICY)
                started = True
            elif page:
                page.append(message)
                if message.get("more_body", False):
                    return
                start, body = page[0], b"".join(m.get("body", b"") for m in page[1:])
                page.clear()
                _secure(start, page_policy(body, scope["path"] in self.docs))
                started = True
                await send(start)
                message = {"type": "http.response.body", "body": body}
            await send(message)

        try:
            await self.app(scope, receive, secured)
        except Exception as error:
            fields = {"method": scope["method"], "path": scope["path"], "error": redacted(error)}
            log.error("request failed", extra={"fields": fields})
            if not started:
                page.clear()
                await _refusal(500, "internal error")(scope, receive, secured)
