"""What supervisors read: the dashboard and its drill-down lists (dashboard,
dashboard_lists), the unit × step progress matrix with its traffic lights (matrix, lights) and
the audit trail viewer and export (audit_trail). Reads only; may call escalation (the board),
ledger, accounts, shared."""
