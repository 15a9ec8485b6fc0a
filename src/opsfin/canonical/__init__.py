"""The canonical model v1 (the warehouse contract), declared once as code."""

from .tables import (
    ACCOUNT_ROLES,
    MODEL_TABLE_NAMES,
    MODEL_VERSION,
    PRODUCTION_COST_ROLES,
    SYSTEM_TABLES,
    TABLE_BY_NAME,
    TABLES,
    VARIANCE_ROLES,
    table,
)
from .types import Column, ForeignKey, Table

__all__ = [
    "ACCOUNT_ROLES",
    "MODEL_TABLE_NAMES",
    "MODEL_VERSION",
    "PRODUCTION_COST_ROLES",
    "SYSTEM_TABLES",
    "TABLE_BY_NAME",
    "TABLES",
    "VARIANCE_ROLES",
    "Column",
    "ForeignKey",
    "Table",
    "table",
]
