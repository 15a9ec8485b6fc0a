"""The presentation layer every front end shares (CLI, REST API, web pages, the pack): labels, unit kinds,
value formatters and the wording of errors (docs/presentation.md).

It sits with the front ends: it may import engines and core, and no engine imports it. The formatter of
each unit kind itself lives in core (opsfin.core.numbers), because the alert texts an engine writes
must spell a value the way the screens do."""

from ..errors import api_name, cli_name
from .formatters import HumanTable, format_value, format_with_unit, humanise
from .labels import label
from .units import column_kind, kpi_kind, kpi_value_kind

__all__ = [
    "HumanTable",
    "api_name",
    "cli_name",
    "column_kind",
    "format_value",
    "format_with_unit",
    "humanise",
    "kpi_kind",
    "kpi_value_kind",
    "label",
]
