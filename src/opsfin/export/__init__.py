"""The monthly pack (pack.py), a front end like the CLI and the web: it gathers engine results and renders
them as a workbook or a page. (The warehouse's Parquet export is I/O: opsfin.runs.parquet.)"""
