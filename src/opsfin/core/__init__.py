"""The lowest layer: money, periods and dimensions, one home for each concept.

Nothing in core imports the rest of opsfin (engines, I/O, front ends); only `opsfin.errors` for UserError."""
