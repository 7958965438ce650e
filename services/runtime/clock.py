"""Time: UTC everywhere inside, Vietnam local time for legal dates."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """Now, to the millisecond: the precision MongoDB keeps, so stored and sent times agree."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def local(moment: datetime) -> datetime:
    """`moment` in Vietnam local time, as citizens and officials read it."""
    return moment.astimezone(LOCAL_TZ)
