"""`motcua rebuild`: rebuild a stats read model from the topics' history, showing progress.

An administrator's token (from the development issuer) starts it; the served figures stay
as they are until the new generation has caught up, then it is served."""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx

from .stack import Stack

ADMINISTRATOR = "h40101.quantri"  # a sample official with the administrator role


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="figures", help="the read model (default: figures)")
    parser.add_argument("--official", default=ADMINISTRATOR, help=f"an administrator (default: {ADMINISTRATOR})")
    parser.add_argument("--timeout", type=float, default=3600, metavar="S", help="give up after (default 3600 s)")


def token(stack: Stack, official: str) -> str:
    response = httpx.post(
        f"{stack.issuer_url}/token", data={"grant_type": "password", "username": official}, timeout=10
    )
    response.raise_for_status()
    return response.json()["access_token"]


def rebuild(stack: Stack, model: str, official: str, timeout: float, show: Any = print) -> dict[str, Any]:
    """Start the rebuild and follow it until its generation is served; the final progress."""
    with httpx.Client(base_url=stack.service_url("stats"), timeout=30) as client:
        started = client.post(
            "/stats/rebuild", params={"model": model}, headers={"Authorization": f"Bearer {token(stack, official)}"}
        )
        if started.status_code != 202:
            raise RuntimeError(f"stats refused the rebuild: {started.status_code} {started.text}")
        generation = started.json()["building"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next(m for m in client.get("/stats/rebuild").json()["models"] if m["model"] == model)
            if found["live"] == generation and found["state"] == "live":
                show(f"{model}: generation {generation} served — {found['events_total']} events replayed")
                return found
            if found.get("events_total"):
                show(
                    f"{model}: {found['events_done']}/{found['events_total']} events "
                    f"({found['percent']} %, {found['events_per_s']} events/s)"
                )
            time.sleep(1)
    raise TimeoutError(f"the rebuild of {model} did not finish in {timeout:.0f} s")


def run(stack: Stack, args: argparse.Namespace) -> int:
    try:
        rebuild(stack, args.model, args.official, args.timeout)
    except (RuntimeError, TimeoutError, httpx.HTTPError) as error:
        print(error)
        return 1
    return 0
