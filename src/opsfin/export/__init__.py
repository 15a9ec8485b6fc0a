"""Exports of the warehouse and of results (Parquet today; packs and spreadsheets later)."""
