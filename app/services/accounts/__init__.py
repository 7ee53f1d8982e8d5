"""Who works in Rectify: user accounts and passwords (users), login throttling (login_throttle),
the units they belong to
(units: import and edit the unit list) and the unit filter every list of units shares
(unit_filter). May call: shared."""
