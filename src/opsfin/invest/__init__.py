"""Investments (docs/investments.md): cases driven by operations, their NPV, IRRs and paybacks, capital
rationing, and the post-investment review. Pure: tables and config in, frames out."""
