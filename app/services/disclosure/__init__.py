"""Open rectification (开门整治): what residents read (disclosure), the tips they send
(tips) and the rate limits that protect the public pages (rate_limits). May call: oversight
(the progress matrix), findings, tasks (evidence), escalation (public notices), shared."""
