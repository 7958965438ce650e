"""Leaders sign what they approved, in batches, through signing's API.

Signing is the leader's own act: after an approval the simulated leader signs the result with
their token. Like a leader at the signing screen, each leader signs in one request whatever they
approved since their last batch (every `BATCH_WAIT_S`). A result signing has not learnt of yet
(the approval is still on its way) is asked again in the next batch, until the patience runs out.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from .casework import Verdict
from .platform_api import PlatformApi, Tally

BATCH_WAIT_S = 0.5
NOT_YET = "no approved result with this code"


def result_of(dossier_code: str) -> str:
    return f"{dossier_code}-KQ1"


class SigningDesk:
    def __init__(self, api: PlatformApi, tally: Tally, patience: float) -> None:
        self.api, self.tally, self.patience = api, tally, patience
        self.pending: defaultdict[str, dict[str, float]] = defaultdict(dict)  # leader → result → give up at
        self.leaders: dict[str, asyncio.Task[None]] = {}

    def approved(self, leader: str, dossier_code: str) -> None:
        """`leader` approved the dossier: its result goes into their next batch."""
        self.pending[leader][result_of(dossier_code)] = time.monotonic() + self.patience
        if leader not in self.leaders or self.leaders[leader].done():
            self.leaders[leader] = asyncio.create_task(self._sign(leader), name=f"signing desk: {leader}")

    async def _sign(self, leader: str) -> None:
        while self.pending[leader]:
            await asyncio.sleep(BATCH_WAIT_S)
            batch, self.pending[leader] = self.pending[leader], {}
            response = await self.api.signing(leader, "POST", "/signatures", {"results": list(batch)})
            if response.status_code != 200:
                self.tally.count("sign", Verdict.UNEXPECTED, ", ".join(batch), response)
                if response.status_code == 503:  # the CA or the TSA is away: the whole batch again
                    self.pending[leader].update(batch)
                continue
            answer = response.json()
            for _ in answer["signed"]:
                self.tally.count("sign", Verdict.DONE, leader)
            for refused in answer["refused"]:
                code = refused["result_code"]
                if refused["reason"] == NOT_YET and time.monotonic() < batch[code]:
                    self.pending[leader][code] = batch[code]
                else:
                    self.tally.problem(f"sign {code}: {refused['reason']}")

    async def close(self) -> None:
        for task in self.leaders.values():
            task.cancel()
        await asyncio.gather(*self.leaders.values(), return_exceptions=True)
