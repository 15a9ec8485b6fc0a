"""The plan engine (docs/planning.md): from volumes — a plan version's or the actual shipments — to the
operations a plan needs (production, materials, capacity), its P&L per month and site, and its balances
and cash. Pure functions of the warehouse tables plus `PlanningConfig`; `engine.build_plan` runs them all."""
