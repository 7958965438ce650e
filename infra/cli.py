"""`motcua`: operate a local stack.

motcua up [--stack dev]      start Kafka, MongoDB-protocol server, the development issuer and every service
motcua down                  stop them
motcua status                health of each process, lag of each consumer group
motcua load --count 500      citizens submit dossiers, simulated officials work them; report when all are settled
motcua dlq list|replay SERVICE   inspect or replay a service's dead-lettered events
motcua token OFFICIAL_ID [--expires-in S]   an official's access token from the development issuer
motcua reconcile GATEWAY [--day D] [--file F]   reconcile a gateway's statement with the ledger (đối soát)
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx
from motcua_contracts import SERVICES
from rich.console import Console

from . import dlq, load, load_summary, rebuild, reconcile, status
from .stack import Stack

console = Console()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="motcua", description="Operate a local motcua stack.")
    parser.add_argument("--stack", default="dev", help="stack name; data lives in .data/<stack> (default: dev)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start infrastructure and services, wait until all are ready")
    up.add_argument(
        "services", nargs="*", metavar="SERVICE", help=f"only these of {', '.join(SERVICES)} (default: all)"
    )
    commands.add_parser("down", help="stop services and infrastructure")
    commands.add_parser("status", help="health of each process and lag of each consumer group")
    restart = commands.add_parser("restart", help="restart one service")
    restart.add_argument("service", choices=SERVICES)
    load.add_arguments(
        commands.add_parser("load", help="submit realistic dossiers, work them as officials, report latencies")
    )
    dlq.add_arguments(commands.add_parser("dlq", help="list or replay dead-lettered events"))
    token = commands.add_parser("token", help="print an official's access token from the development issuer")
    token.add_argument("official", metavar="OFFICIAL_ID", help="the official's user name, e.g. cb.h40101.tn")
    token.add_argument("--expires-in", type=int, default=3600, metavar="S", help="lifetime in seconds (default 3600)")
    reconcile.add_arguments(
        commands.add_parser("reconcile", help="reconcile a gateway's statement of a day with payment's ledger")
    )
    rebuild.add_arguments(
        commands.add_parser("rebuild", help="rebuild a stats read model from the topics' history, with progress")
    )
    certificates = commands.add_parser(
        "pki", help="the stack's development PKI: init, issue, revoke, list (python -m infra.pki, with its PINs)"
    )
    certificates.add_argument("arguments", nargs=argparse.REMAINDER, help="e.g. revoke official:h40101.chutich")
    args = parser.parse_args(argv)
    stack = Stack.named(args.stack)

    if args.command == "up":
        if unknown := set(args.services) - set(SERVICES):
            parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
        with console.status("starting Kafka, MongoDB-protocol server and services..."):
            stack.up(tuple(args.services) or SERVICES)
        console.print(status.process_table(stack))
    elif args.command == "down":
        stack.down()
        console.print(f"stack '{stack.name}' stopped")
    elif args.command == "restart":
        stack.stop(args.service)
        stack.start_service(args.service)
        stack.wait_ready(args.service)
        console.print(f"{args.service} restarted")
    elif args.command == "status":
        console.print(status.process_table(stack))
        if stack.pid("kafka"):
            console.print(status.lag_table(asyncio.run(status.consumer_lag(stack))))
    elif args.command == "load":
        summary = asyncio.run(load.run(stack, args))
        for part in load_summary.report(summary):
            console.print(part)
        return 0 if summary.all_settled else 1
    elif args.command == "dlq":
        return asyncio.run(dlq.run(stack, args))
    elif args.command == "token":
        return print_token(stack, args.official, args.expires_in)
    elif args.command == "reconcile":
        return reconcile.run(stack, args)
    elif args.command == "rebuild":
        return rebuild.run(stack, args)
    elif args.command == "pki":
        if not args.arguments:
            parser.error("pki needs a command: init, issue, revoke or list")
        if args.arguments[0] == "init":
            stack.make_keys()  # with the stack's URLs, officials and PINs
        else:
            print(stack.pki(*args.arguments), end="")
    return 0


def print_token(stack: Stack, official: str, expires_in: int) -> int:
    """Print only the access token, so that `TOKEN=$(motcua token ...)` works; errors go to stderr."""
    try:
        response = httpx.post(
            f"{stack.issuer_url}/token",
            data={"grant_type": "password", "username": official, "expires_in": str(expires_in)},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        print(
            f"issuer of stack '{stack.name}' not reachable at {stack.issuer_url} ({exc}); is the stack up?",
            file=sys.stderr,
        )
        return 1
    if response.status_code != 200:
        try:
            reason = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            reason = response.text or f"HTTP {response.status_code}"
        print(f"issuer refused: {reason}", file=sys.stderr)
        return 1
    print(response.json()["access_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
