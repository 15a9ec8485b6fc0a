"""Costing engines: order costs and unit economics, exact variance analysis, ABC, allocations, value streams."""

# order costing, unit economics and value streams
# activity-based costing and service cost allocations
from .abc import abc_inputs, run_abc  # noqa: E402,F401
from .allocations import allocate_costs, allocation_inputs, journal_rows, run_allocation  # noqa: E402,F401
from .order_costs import cost_pools, operation_costs, order_costs  # noqa: E402,F401
from .unit_economics import support_costs, unit_economics, warehouse_costs  # noqa: E402,F401
from .value_stream import value_stream, value_stream_steps  # noqa: E402,F401

# exact variance analysis
from .variance import source_rows as variance_source_rows  # noqa: E402,F401
from .variance import variance  # noqa: E402,F401
