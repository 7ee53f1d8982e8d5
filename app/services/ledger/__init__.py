"""The rectification ledger (整改台账): items, their statuses, deadlines and verification
(ledger), the campaign-wide register with filters (ledger_register) and its exports
(ledger_export). May call: shared."""
