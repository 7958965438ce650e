"""`motcua load`: citizens submit realistic dossiers over HTTP at a chosen rate, simulated
officials work them through routing's officer API (`infra/officers.py`), and the run ends
once every dossier is settled (completed, refused or withdrawn) with a summary."""

from __future__ import annotations

import argparse
import asyncio
import random
import time

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .citizens import Receipt, Submissions, submit_at_rate
from .load_summary import Summary, summarise
from .officers import Officers, Options
from .stack import Stack
from .staffing import units_to_staff

CONNECTIONS = 32
PROGRESS_EVERY_S = 0.5  # how often the progress bars are refreshed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=200, help="dossiers to submit (default 200)")
    parser.add_argument("--rate", type=float, default=20.0, help="submissions per second (default 20)")
    parser.add_argument("--communes", type=int, default=130, help="spread over this many communes (default 130)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for settlement (default 300)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")
    parser.add_argument("--think", type=float, default=0.2, help="officials' mean think time in seconds (default 0.2)")
    parser.add_argument(
        "--supplements", type=share, default=0.05, help="share of dossiers sent back for a supplement (default 0.05)"
    )
    parser.add_argument("--refusals", type=share, default=0.02, help="share of dossiers refused (default 0.02)")


def share(text: str) -> float:
    """A share of dossiers: a number from 0 to 1."""
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


async def run(stack: Stack, args: argparse.Namespace) -> Summary:
    rng = random.Random(args.seed)
    options = Options(think=args.think, supplements=args.supplements, refusals=args.refusals, seed=args.seed)
    receipts: list[Receipt] = []
    attempts = Submissions()  # what the submissions met: busy answers, timeouts, refusals, give-ups
    async with (
        httpx.AsyncClient(
            base_url=stack.service_url("intake"), timeout=30, limits=httpx.Limits(max_connections=CONNECTIONS)
        ) as intake,
        httpx.AsyncClient(
            base_url=stack.service_url("digitisation"), timeout=60, limits=httpx.Limits(max_connections=CONNECTIONS)
        ) as digitisation,
        Officers.for_stack(stack, options) as officers,
    ):
        procedures = (await intake.get("/procedures")).raise_for_status().json()["procedures"]
        communes = (await intake.get("/communes")).raise_for_status().json()[: args.communes]
        units = (await intake.get("/units")).raise_for_status().json()
        staffed = await officers.staff(units_to_staff(procedures, units, [commune["code"] for commune in communes]))
        start = time.monotonic()
        with Progress(
            TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as bar:
            sent = bar.add_task("submitted", total=args.count)
            settled = bar.add_task("settled", total=args.count)

            def on_answer(receipt: Receipt | None) -> None:
                if receipt is not None:
                    receipts.append(receipt)
                    officers.add(receipt.code, owner=receipt.owner)
                    officers.cases[receipt.code].receipt_token = receipt.token  # the owner's supplements need it
                bar.advance(sent)

            submissions = asyncio.create_task(
                submit_at_rate(
                    intake,
                    digitisation,
                    rng,
                    procedures,
                    communes,
                    args.count,
                    args.rate,
                    on_answer,
                    attempts,
                    CONNECTIONS,
                )
            )
            deadline = start + args.count / args.rate + args.timeout
            while time.monotonic() < deadline:
                bar.update(settled, completed=len(officers.settlements))
                if not submissions.done():
                    await asyncio.sleep(PROGRESS_EVERY_S)
                elif submissions.exception() or not await officers.wait(timeout=PROGRESS_EVERY_S):
                    break
            bar.update(settled, completed=len(officers.settlements))
            await submissions
        summary = summarise(receipts, attempts, officers.settlements, officers.tally, time.monotonic() - start)
    summary.staffed = len(staffed)
    return summary
