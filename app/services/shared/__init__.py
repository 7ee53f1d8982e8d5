"""Shared kernel: what every context needs and none owns.

audit (the append-only audit log: record, values, record_many), paging (the one Page shape
every list returns), spreadsheets (safe .xlsx/.csv reading and writing), input_errors (field
errors for forms and imports), data_versions (a token per campaign that changes with every
write its dashboard counts, for caches keyed by it). Imports nothing else from app.services."""
