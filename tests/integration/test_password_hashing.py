"""Password hashing cost is configuration: production keeps argon2-cffi's strong defaults (RFC 9106
low-memory profile), the test configuration a cheap one, and a hash made with other parameters
still verifies and is redone with the configured ones at the next login."""

import importlib.util
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import User
from app.services.accounts import users
from tests.conftest import csrf_from

CONFIG_PY = Path(__file__).resolve().parents[2] / "config.py"
STRONG_PREFIX = "$argon2id$v=19$m=65536,t=3,p=4$"
CHEAP_PREFIX = "$argon2id$v=19$m=8,t=1,p=1$"
PARAMS = ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_COST", "PASSWORD_HASH_PARALLELISM")


@pytest.fixture
def fresh_config(monkeypatch):
    """config.py as a deployment without PASSWORD_HASH_* variables reads it."""
    for name in PARAMS:
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("config_defaults_under_test", CONFIG_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_production_configuration_uses_the_strong_parameters(fresh_config):
    for cls in (
        fresh_config.Config,
        fresh_config.DevelopmentConfig,
        getattr(fresh_config, "ProductionConfig", fresh_config.Config),
    ):
        assert (cls.PASSWORD_HASH_TIME_COST, cls.PASSWORD_HASH_MEMORY_COST, cls.PASSWORD_HASH_PARALLELISM) == (
            3,
            65536,
            4,
        ), cls.__name__
    # ... which are argon2-cffi's own defaults.
    profile = RFC_9106_LOW_MEMORY
    assert (profile.time_cost, profile.memory_cost, profile.parallelism) == (3, 65536, 4)


def test_a_hash_made_under_the_default_configuration_carries_the_strong_parameters(fresh_config, tmp_path):
    overrides = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    application = create_app(type("DefaultHashConfig", (fresh_config.Config,), overrides))
    with application.app_context():
        hashed = users.hash_password("Rectify2026!")
        assert hashed.startswith(STRONG_PREFIX), hashed
        assert users.verify_password(hashed, "Rectify2026!")
        assert not users.verify_password(hashed, "Rectify2027!")


def test_the_test_configuration_hashes_cheaply(app, ctx):
    hashed = users.hash_password("Passw0rd!")
    assert hashed.startswith(CHEAP_PREFIX), hashed
    assert users.verify_password(hashed, "Passw0rd!")


def _login(client, username, password):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )


def _stored_hash(app, username) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.username == username))


def test_a_weaker_hash_verifies_and_is_strengthened_at_login(app, client, make_user, monkeypatch):
    make_user("admin", username="old_hash")  # made with the cheap test parameters
    assert _stored_hash(app, "old_hash").startswith(CHEAP_PREFIX)
    # The deployment raises the cost (as production's defaults are): the old hash still logs in ...
    for name, value in zip(PARAMS, (3, 65536, 4), strict=True):
        monkeypatch.setitem(app.config, name, value)
    assert _login(client, "old_hash", "wrong-pass").status_code == 200
    assert _stored_hash(app, "old_hash").startswith(CHEAP_PREFIX)  # a failed login changes nothing
    assert _login(client, "old_hash", "Passw0rd!").status_code == 302
    # ... and is redone with the configured parameters, still matching the same password.
    renewed = _stored_hash(app, "old_hash")
    assert renewed.startswith(STRONG_PREFIX), renewed
    assert PasswordHasher().verify(renewed, "Passw0rd!")


def test_a_hash_with_other_parameters_still_logs_in(app, client, make_user):
    user_id = make_user("supervisor", username="imported")
    with app.app_context():
        # As if copied from a deployment with different costs.
        db.session.get(User, user_id).password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=2).hash(
            "Passw0rd!"
        )
        db.session.commit()
    assert _login(client, "imported", "Passw0rd!").status_code == 302
    assert _stored_hash(app, "imported").startswith(CHEAP_PREFIX)
    assert _login(app.test_client(), "imported", "Passw0rd!").status_code == 302
