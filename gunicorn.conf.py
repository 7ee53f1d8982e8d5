"""gunicorn's settings for Rectify: `gunicorn wsgi:app` in the repository reads this file.

Every number comes from the environment (deploy/rectify.env.example), with defaults for a
small server behind nginx. Logs go to stdout (journald under systemd) as key=value lines: the
access log with the request's X-Request-ID, the error log and the app's own loggers through
app.logs.KeyValueFormatter, which adds the id of the request being served.

The app runs in production mode unless RECTIFY_CONFIG says otherwise, so it refuses insecure
settings at start (app.insecure_settings)."""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


os.environ.setdefault("RECTIFY_CONFIG", "config.ProductionConfig")

bind = os.environ.get("WEB_BIND") or "127.0.0.1:8000"
# Two workers a core, at most 8: each holds its own engine caches and database pool.
workers = _int("WEB_WORKERS", min(2 * multiprocessing.cpu_count(), 8))
threads = _int("WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
# A request may take this long (a launch batch, a calendar change recomputed while the office waits:
# CALENDAR_RECOMPUTE_SECONDS is 20) before its worker is killed and restarted.
timeout = _int("WEB_TIMEOUT", 60)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
# Recycle a worker after this many requests (0: never), jittered so they do not all restart at once.
max_requests = _int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = _int("WEB_MAX_REQUESTS_JITTER", 200)
# nginx on the same host sets X-Forwarded-Proto; the app's TRUSTED_PROXIES handles X-Forwarded-For.
forwarded_allow_ips = os.environ.get("WEB_FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"
# The workers see how many they are (the production check refuses SQLite under several).
os.environ["WEB_WORKERS"] = str(workers)

# gunicorn's control socket (gunicornc) would live in the home directory; systemd manages the service.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL") or "info"
# One key=value line a request; the id is the response's X-Request-ID (the app sets it).
access_log_format = (
    'request_id=%({x-request-id}o)s remote=%(h)s forwarded_for="%({x-forwarded-for}i)s" '
    'method=%(m)s path="%(U)s" query="%(q)s" status=%(s)s bytes=%(B)s duration_ms=%(M)s '
    'referer="%(f)s" user_agent="%(a)s"'
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "keyvalue": {"()": "app.logs.KeyValueFormatter"},
        "access": {"()": "app.logs.AccessFormatter"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "keyvalue", "stream": "ext://sys.stdout"},
        "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
    },
    "root": {"level": os.environ.get("LOG_LEVEL") or "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        # /readyz asks Alembic for the schema's revision; its "Context impl" lines say nothing.
        "alembic.runtime.migration": {"level": "WARNING"},
    },
}


def on_starting(server):
    # The worker count as finally set (a -w on the command line wins over the environment).
    os.environ["WEB_WORKERS"] = str(server.cfg.workers)
