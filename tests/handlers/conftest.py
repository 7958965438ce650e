"""Fast tests of each service's handlers and HTTP rules, in process (see tests/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .routing_support import Routing, running


@pytest.fixture
async def routing(tmp_path: Path) -> AsyncIterator[Routing]:
    """Routing in process, with the development issuer for officials' tokens."""
    async with running(tmp_path) as routing:
        yield routing
