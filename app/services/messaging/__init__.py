"""Messages to people: in-app notifications (notifications) and e-mail (mailer).

Serves every context above it; knows nothing of campaigns, steps or escalations. May call:
shared."""
