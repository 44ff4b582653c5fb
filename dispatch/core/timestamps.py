"""The one input type for a time a person or device sends: aware, within years the system can store and read.

A time near year 1 with an offset overflows when converted to UTC, and year 9999 with a negative offset becomes
year 10000, which PostgreSQL stores and Python then cannot read back (issue 19). Input is refused outside
``EARLIEST``..``LATEST`` with a field error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    offset = value.utcoffset()
    naive = value.replace(tzinfo=None)
    try:
        utc = (naive - offset if offset else naive).replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not (EARLIEST <= utc <= LATEST):
        raise PydanticCustomError(
            "datetime_out_of_range",
            "Must be between {earliest} and {latest}",
            {"earliest": EARLIEST.date().isoformat(), "latest": LATEST.date().isoformat()},
        )
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_in_range)]
