"""Scenarios (docs/scenarios.md): shocks run through the plan engine, Monte Carlo ranges, the driver tree
and the trade-offs of speed and reliability. Pure: tables and config in, frames out."""
