"""Read the motcua platform's events: a small consumer for departments and dashboards.

    pip install ./contracts aiokafka
    MOTCUA_KAFKA_PASSWORD=... python contracts/examples/consume.py \\
        --bootstrap kafka.example.gov.vn:9093 --user reader --ca-file brokers-ca.pem \\
        --topics motcua.stats.v1 --from-beginning

Prints one line per event on stdout (time, type, subject, a few fields) and notes on
stderr. It needs only the contracts package and aiokafka; replace `describe` with your
own work. See docs/consuming-events.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import ssl
import sys
from collections.abc import Collection, Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from motcua_contracts import DossierCompleted, DossierReceived, Envelope, Event, StatsSnapshot, UnknownEventType
from motcua_contracts.access import READER, READER_GROUP_PREFIX, SHARED

log = logging.getLogger("consume")

# `motcua dlq replay <service>` sends a parked event back to its topic for that one service;
# every other consumer already saw the original and skips it.
REPLAY_HEADER = "motcua-replay-for"


def describe(envelope: Envelope, payload: Event) -> str:
    """One line for one event: when, what, which dossier (or unit), and what matters in it."""
    head = f"{envelope.time.isoformat(timespec='seconds')} {envelope.type} {envelope.subject}"
    match payload:
        case StatsSnapshot():
            unit = payload.unit or "province"
            if payload.unit_name:
                unit += f" ({payload.unit_name})"
            period = f"{payload.period_from or '?'}..{payload.period_to or '?'}"
            index = "-" if payload.index_score is None else f"{payload.index_score:.2f}"
            return (
                f"{head} unit={unit} period={period} "
                f"received={payload.received} resolved={payload.resolved} index={index}"
            )
        case DossierCompleted():
            return f"{head} outcome={payload.outcome}"
        case DossierReceived():
            return f"{head} procedure={payload.procedure_code} channel={payload.channel}"
        case _:
            return head


def handle(value: bytes | None, headers: Sequence[tuple[str, bytes]] = (), types: Collection[str] = ()) -> str | None:
    """Parse one record's value and describe its event; None when the record is skipped:
    a replay meant for a service, a type not in `types` (when given), a type this version
    of the contracts does not know, or a value that is not a valid envelope."""
    if any(name == REPLAY_HEADER for name, _ in headers) or value is None:
        return None
    try:
        envelope = Envelope.model_validate_json(value)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        log.warning("skipped a record that is not an envelope: %s", error.__class__.__name__)
        return None
    if types and envelope.type not in types:
        return None
    try:
        payload = envelope.payload()
    except UnknownEventType:
        # Forward compatibility: producers may add event types within a topic version.
        # Upgrade the contracts package to read them; until then, ignore them.
        log.info("skipped %s: unknown event type %s", envelope.id, envelope.type)
        return None
    except ValueError as error:
        # A known type whose data does not match its schema. A real consumer would park it
        # (a dead-letter table or topic) and alert; retrying cannot fix it.
        log.warning("skipped %s: %s does not match its schema (%s)", envelope.id, envelope.type, error)
        return None
    return describe(envelope, payload)


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print the motcua platform's events.")
    parser.add_argument("--bootstrap", required=True, help="broker addresses, host:port[,host:port]")
    parser.add_argument("--user", default=READER, help="broker user (SASL/SCRAM-SHA-512); default: %(default)s")
    parser.add_argument("--password", help="that user's password; better: the MOTCUA_KAFKA_PASSWORD variable")
    parser.add_argument("--ca-file", help="CA of the brokers' TLS certificates: connect with SASL_SSL")
    parser.add_argument(
        "--security-protocol",
        choices=["SASL_SSL", "SASL_PLAINTEXT"],
        help="default: SASL_SSL with --ca-file, else SASL_PLAINTEXT (a private network, e.g. the local stack)",
    )
    parser.add_argument("--topics", nargs="+", default=[t.name for t in SHARED], help="default: every shared topic")
    parser.add_argument(
        "--group",
        default=f"{READER_GROUP_PREFIX}example",
        help=f"consumer group; the reader may join only groups named {READER_GROUP_PREFIX}*; default: %(default)s",
    )
    parser.add_argument(
        "--from-beginning",
        action="store_true",
        help="a group without committed offsets starts at the topics' beginning (else at their end)",
    )
    parser.add_argument("--max-events", type=int, metavar="N", help="stop after N events")
    parser.add_argument(
        "--type", dest="types", action="append", default=[], metavar="TYPE", help="only this event type (repeatable)"
    )
    args = parser.parse_args(argv)
    args.password = args.password or os.environ.get("MOTCUA_KAFKA_PASSWORD")
    if not args.password:
        parser.error("give --password or set MOTCUA_KAFKA_PASSWORD")
    args.security_protocol = args.security_protocol or ("SASL_SSL" if args.ca_file else "SASL_PLAINTEXT")
    return args


def connect(args: argparse.Namespace) -> AIOKafkaConsumer:
    tls = ssl.create_default_context(cafile=args.ca_file) if args.security_protocol == "SASL_SSL" else None
    return AIOKafkaConsumer(
        *args.topics,
        bootstrap_servers=args.bootstrap,
        security_protocol=args.security_protocol,
        ssl_context=tls,
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=args.user,
        sasl_plain_password=args.password,
        group_id=args.group,
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        enable_auto_commit=False,  # committed below, only once handled
    )


async def consume(args: argparse.Namespace) -> int:
    """Read and print events until Ctrl-C (or `--max-events`); return how many were handled.

    At least once: an offset is committed only after its record was handled, so after a
    crash or a rebalance some events come again (the platform's producers may also publish
    an event twice, with the same id). Printing twice does no harm; a consumer that stores
    something makes it idempotent: record `envelope.id` in the same transaction as the
    effect and skip ids already recorded, or overwrite by key (a dashboard keeps the newest
    `stats.snapshot` per unit).
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_on = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows, nor outside the main thread
            loop.add_signal_handler(signum, stopping.set)
            stop_on.append(signum)
    handled = 0
    consumer = connect(args)
    try:
        await consumer.start()
        while not stopping.is_set() and (args.max_events is None or handled < args.max_events):
            batches = await consumer.getmany(timeout_ms=1000)
            for partition, records in batches.items():
                # Events of one dossier (one key) are in one partition, in order.
                done = None
                for record in records:
                    if line := handle(record.value, record.headers, args.types):
                        print(line, flush=True)
                        handled += 1
                    done = record.offset + 1
                    if handled == args.max_events:
                        break
                if done is not None:
                    await consumer.commit({partition: done})
                if handled == args.max_events:
                    break
    finally:
        await consumer.stop()  # leaves the group at once, so a restart takes over quickly
        for signum in stop_on:
            loop.remove_signal_handler(signum)
    return handled


def main(argv: Sequence[str] | None = None) -> int:
    """Run the consumer; return the number of events handled."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)  # this script's notes; aiokafka's only when they are warnings
    args = arguments(argv)
    try:
        handled = asyncio.run(consume(args))
    except KafkaError as error:  # unreachable brokers, a wrong password, a topic or group not granted
        log.error("%s", error)
        raise SystemExit(1) from None
    log.info("handled %d events", handled)
    return handled


if __name__ == "__main__":
    main()
