"""One unit's process instance and its steps.

workflow (load an instance's engine state; the one save path for it, used by the web, the
sweep and bulk work alike, one instance or a batch), tasks (claiming,
drafting and completing a step: the path of one task completion starts here), steps (what
completing each form key does to the ledger and the process), evidence (uploaded files),
instance_view (an instance's timeline), migration (moving running instances to a new version
of their process). May call: design, escalation, ledger, accounts, messaging, shared."""
