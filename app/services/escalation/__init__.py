"""The escalation ladder of an overdue step: reminder (催办) → supervision letter (督办函) →
public notice (通报).

ladder (the rules: offsets, catch-up, one rung a sweep), escalations (recording rungs, locking
instances, gate and delivery), letters and letter_docx (numbered letters and their DOCX),
manual_letters (a supervisor's letter by hand), notices_public (通报 and their take-down),
withdrawal (withdrawing a rung), board (the supervisors' board of overdue steps).
May call: shared, messaging, accounts (unit_filter). Never calls tasks: the steps it watches
are read from the models, and the sweep that advances instances lives in `sweep`."""
