"""Worker processes for CPU-heavy work, so the event loop keeps serving.

Rendering a PDF, checking an upload or a signature takes tens of milliseconds of pure
Python; on the event loop it would stall every request and batch meanwhile. `Workers`
runs such functions in a pool of `MOTCUA_WORKERS` processes, started on first use.
The function and its arguments must be picklable (module-level functions, plain data).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class Workers:
    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in a worker process."""
        if self._pool is None:
            # spawn: a fresh interpreter, never a copy of this one's threads and locks
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(function, *args, **kwargs))

    async def warm_up(self) -> None:
        """Start the worker processes now (a second or more each), not on the first citizen's request."""
        await asyncio.gather(*(self.run(_ready) for _ in range(self.processes)))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _ready() -> bool:
    return True
