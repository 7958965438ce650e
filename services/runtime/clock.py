"""Time: UTC everywhere inside, Vietnam local time for legal dates.

`MOTCUA_CLOCK_SHIFT_S` moves a process's clock forward (drills and tests of deadlines
only: "what happens two working days from now"); deployments leave it unset.
"""

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SHIFT = timedelta(seconds=float(os.environ.get("MOTCUA_CLOCK_SHIFT_S", "0")))


def utcnow() -> datetime:
    """Now, to the millisecond: the precision MongoDB keeps, so stored and sent times agree."""
    now = datetime.now(UTC) + SHIFT
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def local(moment: datetime) -> datetime:
    """`moment` in Vietnam local time, as citizens and officials read it."""
    return moment.astimezone(LOCAL_TZ)
