"""What the HTTP adapters share: reading a provider's JSON answer and its `Retry-After`."""

from __future__ import annotations

from typing import Any

import httpx


def answer_json(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after(response: httpx.Response) -> float | None:
    """The provider's `Retry-After` in seconds, when it gave one as a number."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
