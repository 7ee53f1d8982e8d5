"""Shared by the designer tests: the shipped diagram, and undoing versions a test deployed."""
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Base, ProcessDefinition

XML = (Path(__file__).resolve().parents[2] / "processes" / "rectification.bpmn").read_bytes()


@pytest.fixture
def extra_versions(app):
    """For tests that deploy new versions: afterwards only the shipped v1 is left."""
    yield
    from app.services import processes

    with app.app_context():
        db.session.rollback()
        # Rows pointing at a version go first, then the versions (which point at users).
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ("process_definitions", "alembic_version", "users", "units"):
                db.session.execute(table.delete())
        db.session.query(ProcessDefinition).filter(ProcessDefinition.version > 1).delete()
        db.session.commit()
        processes.forget_cached()
