"""User-task forms built from forms/*.yaml; the public API lives in app.forms.registry."""
