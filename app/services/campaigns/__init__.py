"""Campaigns: creating and editing them (campaigns), their notices (notices) and launching
one instance per participating unit (launch). May call: tasks, design, escalation, ledger,
accounts, messaging, shared."""
