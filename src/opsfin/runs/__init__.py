"""The engines on a workspace (the I/O layer; docs/architecture.md).

The engines (kpis, costing, alerts, matching, integrity…) are pure: tables and config in, results out.
This package is the glue around them: it opens the warehouse tables an engine reads (on DuckDB or
Spark), loads the workspace's model files, reads and writes the app database (decisions, kept runs),
posts journals, and caches. The Workspace's methods, the CLI and the web call these functions; the
engines never import them.

- `tables`: the warehouse as Ibis tables (`open_tables`); `spark`: the Spark scale path, over
  `parquet`: the warehouse as Parquet files (`opsfin export parquet`, the Spark cache);
- `alerts`, `checks`, `costing`, `matching`: each engine on a workspace;
- `reads`: small warehouse look-ups the front ends need (months with data, loads, PO line sites)."""
