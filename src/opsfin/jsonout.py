"""JSON for results, shared by the CLI (`--format json`) and the REST API, so both print the same rows.

Decimals (money) become exact strings, dates and times ISO 8601; floats stay numbers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any, indent: int | None = 2) -> str:
    return json.dumps(data, default=json_default, indent=indent, ensure_ascii=False)
