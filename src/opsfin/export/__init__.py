"""Exports of the warehouse and of results: Parquet (parquet.py) and the monthly pack (pack.py)."""
