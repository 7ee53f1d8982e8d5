"""Ledger items added to a running instance from outside the unit's own self-check: a
supervisor's finding or a resident's tip (findings) and a ledger import file (ledger_import).
May call: tasks, ledger, accounts, shared."""
