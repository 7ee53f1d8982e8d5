"""User-task forms built from forms/*.yaml."""
