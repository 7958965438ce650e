"""`motcua reconcile`: a finance officer reconciles one gateway's statement of one day with
payment's ledger (đối soát), through payment's `POST /reconciliations`, and reads the report.

The statement is a file the gateway sent (`--file`), or, on a local stack, the sandbox
gateway's statement of that day. Exit status: 0 balanced, 2 not balanced, 1 could not reconcile.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import httpx

from .stack import LOCAL_FINANCE_OFFICIALS, Stack

SANDBOX_PROTOCOL = {"payment-platform": "platform", "card-gateway": "card"}  # the sandbox's statement addresses


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gateway", choices=sorted(SANDBOX_PROTOCOL), help="the gateway whose statement it is")
    parser.add_argument("--day", type=date.fromisoformat, default=date.today(), help="YYYY-MM-DD (default: today)")
    parser.add_argument("--file", type=Path, help="the statement (CSV); default: the local sandbox gateway's")
    parser.add_argument("--official", default=LOCAL_FINANCE_OFFICIALS.split(",")[0], help="the finance officer")


def run(stack: Stack, args: argparse.Namespace) -> int:
    try:
        if args.file is not None:
            statement = args.file.read_bytes()
        else:
            url = f"{stack.gateway_url}/statements/{SANDBOX_PROTOCOL[args.gateway]}"
            fetched = httpx.get(url, params={"day": args.day.isoformat()}, timeout=30)
            fetched.raise_for_status()
            statement = fetched.content
        token = httpx.post(
            f"{stack.issuer_url}/token", data={"grant_type": "password", "username": args.official}, timeout=10
        ).json()["access_token"]
        response = httpx.post(
            f"{stack.service_url('payment')}/reconciliations",
            params={"gateway": args.gateway, "day": args.day.isoformat()},
            content=statement,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
            timeout=60,
        )
    except (OSError, httpx.HTTPError, KeyError, ValueError) as error:
        print(f"could not reconcile: {error}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"payment refused the statement (HTTP {response.status_code}): {response.text}", file=sys.stderr)
        return 1
    report = response.json()
    print(report["text"])
    print(f"stored as {report['id']}")
    return 0 if report["balanced"] else 2
