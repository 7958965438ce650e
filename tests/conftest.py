"""Shared fixtures. `stack` starts the real Kafka broker, the MongoDB-protocol
server and every service as separate processes (the `test` stack, own ports and
data folder), once per test session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from infra.stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    stack = Stack.named("test")
    stack.down()  # leftovers of an interrupted run
    shutil.rmtree(stack.data, ignore_errors=True)
    try:
        stack.up()
        yield stack
    finally:
        stack.down()
