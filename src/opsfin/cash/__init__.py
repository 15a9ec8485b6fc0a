"""Cash (docs/cash.md): learned payment behaviour, the daily 13-week cash forecast, working-capital levers
and production scheduled around cash. Pure: tables and config in, frames out."""
