"""Shared kernel: what every context needs and none owns.

audit (the append-only audit log: record, values, record_many), paging (the one Page shape
every list returns), spreadsheets (safe .xlsx/.csv reading and writing), input_errors (field
errors for forms and imports). Imports nothing else from app.services."""
