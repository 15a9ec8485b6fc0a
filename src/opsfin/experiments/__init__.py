"""Process experiments (docs/experiments.md): treated against control units, difference-in-differences
effects with confidence intervals, and their money. Pure: tables and config in, frames out."""
