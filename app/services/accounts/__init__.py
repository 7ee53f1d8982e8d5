"""Who works in Rectify: user accounts, passwords and sessions (users), login throttling
(login_throttle), the password policy (password_policy), the units they belong to
(units: import and edit the unit list), the bounded search the unit pickers use (unit_search) and
the unit filter every list of units shares (unit_filter). May call: shared."""
