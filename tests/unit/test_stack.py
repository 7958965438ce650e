"""The local stack knows each process it starts, so `down` stops every one of them."""

from __future__ import annotations

from infra.stack import INFRA, MARKERS, OUTSIDE


def test_every_outside_party_and_server_is_recognised_by_its_command_line() -> None:
    assert set(INFRA) | set(OUTSIDE) <= set(MARKERS)
    assert all(MARKERS[party] == f"infra.{party}" for party in OUTSIDE)  # `python -m infra.<party>`
