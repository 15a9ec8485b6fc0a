"""The one value parser: a raw value -> its canonical type, or a reason it is refused (docs/ingest.md,
"One value parser"). Pure; it imports nothing of opsfin but the canonical model.

- `parser`: tabular values, column by column (`value_checker`), and the rules every path shares;
- `documents`: the values of bank statements and e-invoices, as the readers meet them.

Ingest and the readers both parse with it, so it sits below both of them: neither package imports the
other to read a value."""
