"""Unique, time-sortable event ids (ULID, Crockford base32, 26 characters)."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, 80-bit random part) of the previous id


def new_event_id() -> str:
    """Return a new ULID; ids made by one process are strictly increasing.

    Within one millisecond the random part is incremented instead of redrawn
    (the ULID "monotonic" rule), so an outbox sorted by id keeps emission order.
    """
    global _last
    with _lock:
        now = time.time_ns() // 1_000_000
        last_ms, last_rand = _last
        if now <= last_ms:
            now, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (now, rand)
    value = (now << 80) | (rand & ((1 << 80) - 1))
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))
