"""The scheduler's sweep (timers): advance every instance whose timer is due, in batches,
then deliver the escalation rungs that are due. May call: tasks, escalation, messaging,
shared; it is started by app.jobs and the `flask scheduler` command."""
