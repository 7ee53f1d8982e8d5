"""deploy/ agrees with the code: the environment file names only settings that are read, the
nginx body limit is the app's, and the systemd units start what the README says."""

import re
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _read_settings() -> set[str]:
    """Every environment variable config.py and gunicorn.conf.py read."""
    names: set[str] = set()
    for source in ("config.py", "gunicorn.conf.py"):
        text = (ROOT / source).read_text()
        names |= set(re.findall(r"""os\.environ(?:\.get|\.setdefault)?\(\s*["']([A-Z0-9_]+)["']""", text))
        names |= set(re.findall(r"""_int\(\s*["']([A-Z0-9_]+)["']""", text))
    return names


def _env_example() -> dict[str, str]:
    """KEY=value lines of the template, commented-out ones included."""
    pairs = {}
    for line in (DEPLOY / "rectify.env.example").read_text().splitlines():
        match = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            pairs[match.group(1)] = match.group(2)
    return pairs


def test_the_environment_file_names_only_settings_that_are_read():
    unknown = sorted(set(_env_example()) - _read_settings())
    assert not unknown, f"deploy/rectify.env.example sets what nothing reads: {unknown}"


def test_the_environment_file_has_the_settings_that_matter():
    env = _env_example()
    for name in ("SECRET_KEY", "DATABASE_URL", "UPLOAD_DIR", "TRUSTED_PROXIES", "SESSION_COOKIE_SECURE"):
        assert name in env, name
    assert env["SECRET_KEY"] == ""  # nobody's key by copying the template
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    module, name = env["RECTIFY_CONFIG"].split(".")
    assert module == "config" and getattr(config, name).PRODUCTION


def test_nginx_takes_the_bodies_the_app_takes():
    site = (DEPLOY / "nginx-rectify.conf").read_text()
    (megabytes,) = re.findall(r"client_max_body_size (\d+)m;", site)
    assert int(megabytes) * 1024 * 1024 == config.Config.MAX_CONTENT_LENGTH == int(_env_example()["MAX_CONTENT_LENGTH"])
    assert "X-Forwarded-Proto $scheme" in site and "X-Request-ID $request_id" in site
    assert 'Cache-Control "public, max-age=31536000, immutable"' in site


def test_the_units_start_gunicorn_and_the_scheduler():
    web = (DEPLOY / "rectify-web.service").read_text()
    scheduler = (DEPLOY / "rectify-scheduler.service").read_text()
    assert "gunicorn --config /opt/rectify/gunicorn.conf.py wsgi:app" in web
    assert re.search(r"ExecStart=\S+/flask scheduler run\n", scheduler)
    upload_dir = _env_example()["UPLOAD_DIR"]
    for unit in (web, scheduler):
        assert "EnvironmentFile=/etc/rectify/rectify.env" in unit
        (writable,) = re.findall(r"ReadWritePaths=(\S+)", unit)
        assert upload_dir.startswith(writable + "/")
