"""Configuration read from the environment; one class per deployment kind."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _default_db() -> str:
    return f"sqlite:///{BASE_DIR / 'instance' / 'rectify.db'}"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_db()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(BASE_DIR / "instance" / "uploads"))
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    PROCESSES_DIR = os.environ.get("PROCESSES_DIR", str(BASE_DIR / "processes"))
    FORMS_DIR = os.environ.get("FORMS_DIR", str(BASE_DIR / "forms"))
    SCHEMES_DIR = os.environ.get("SCHEMES_DIR", str(BASE_DIR / "schemes"))
    # Evidence uploads and whole form posts are capped; Werkzeug answers 413 beyond it.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 32 * 1024 * 1024))
    # Uploaded files (app/services/shared/uploads.py): types told by content, images verified. An
    # image with more pixels than this is refused before it is decoded (a decompression bomb).
    UPLOAD_MAX_IMAGE_PIXELS = int(os.environ.get("UPLOAD_MAX_IMAGE_PIXELS", 50_000_000))
    # Evidence on a task: each file, and all of one task's files (those carried over from a
    # returned step included), by count and by total size.
    EVIDENCE_MAX_FILE_BYTES = int(os.environ.get("EVIDENCE_MAX_FILE_BYTES", 20 * 1024 * 1024))
    EVIDENCE_MAX_FILES_PER_TASK = int(os.environ.get("EVIDENCE_MAX_FILES_PER_TASK", 30))
    EVIDENCE_MAX_BYTES_PER_TASK = int(os.environ.get("EVIDENCE_MAX_BYTES_PER_TASK", 100 * 1024 * 1024))
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = TIMEZONE
    LANGUAGES = ["zh_CN", "en"]
    # Cookies: never read by scripts, not sent on other sites' posts, and over HTTPS only (on unless
    # SESSION_COOKIE_SECURE=0; the development server, plain http, turns it off).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # A session without a request for this many minutes ends (the user is asked to log in again).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", 30))
    # Login throttling (app/services/accounts/login_throttle.py): after the free failures of an account
    # name or a client address, the next attempt waits LOGIN_DELAY_SECONDS, doubling with each further
    # failure up to the cap; counters quiet for LOGIN_THROTTLE_FORGET_HOURS are forgotten.
    LOGIN_ACCOUNT_FREE_FAILURES = int(os.environ.get("LOGIN_ACCOUNT_FREE_FAILURES", 5))
    LOGIN_ADDRESS_FREE_FAILURES = int(os.environ.get("LOGIN_ADDRESS_FREE_FAILURES", 20))
    LOGIN_DELAY_SECONDS = int(os.environ.get("LOGIN_DELAY_SECONDS", 30))
    LOGIN_ACCOUNT_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", 300))
    LOGIN_ADDRESS_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_ADDRESS_MAX_DELAY_SECONDS", 3600))
    LOGIN_THROTTLE_FORGET_HOURS = int(os.environ.get("LOGIN_THROTTLE_FORGET_HOURS", 24))
    # Audit events younger than this many days are never deleted (等级保护: at least six months).
    AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", 180))
    # Where the scheduler writes the audit chain's daily anchor (head hash and count); point it at
    # storage the database's administrators cannot rewrite (another machine, a WORM archive).
    # Empty: no daily anchor.
    AUDIT_ANCHOR_DIR = os.environ.get("AUDIT_ANCHOR_DIR", str(BASE_DIR / "instance" / "audit-anchors"))
    # The password policy, wherever a password is set: length, how many of the four classes (lower
    # case, upper case, digits, other), and whether it may contain the user name.
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 8))
    PASSWORD_MIN_CLASSES = int(os.environ.get("PASSWORD_MIN_CLASSES", 3))
    PASSWORD_FORBID_USERNAME = os.environ.get("PASSWORD_FORBID_USERNAME", "1") == "1"
    WTF_CSRF_TIME_LIMIT = None
    # An uploaded or deployed .bpmn larger than this is refused before it is parsed.
    BPMN_MAX_BYTES = int(os.environ.get("BPMN_MAX_BYTES", 2 * 1024 * 1024))
    # ... and one with more elements, nested deeper, or whose first (streaming) pass takes longer
    # than this, before any tree is built; rectification.bpmn has about 700 elements.
    BPMN_MAX_ELEMENTS = int(os.environ.get("BPMN_MAX_ELEMENTS", 20_000))
    BPMN_MAX_DEPTH = int(os.environ.get("BPMN_MAX_DEPTH", 100))
    BPMN_MAX_PARSE_SECONDS = float(os.environ.get("BPMN_MAX_PARSE_SECONDS", 5))
    # The lint refuses a multi-instance cardinality or a timer cycle's repetitions above this.
    BPMN_MAX_CARDINALITY = int(os.environ.get("BPMN_MAX_CARDINALITY", 1000))
    LAUNCH_BATCH_SIZE = int(os.environ.get("LAUNCH_BATCH_SIZE", 500))
    DUE_SOON_DAYS = int(os.environ.get("DUE_SOON_DAYS", 3))
    # A deadline falls at the end of the working day.
    WORKDAY_END = os.environ.get("WORKDAY_END", "17:30")
    LETTER_GRACE_DAYS = int(os.environ.get("LETTER_GRACE_DAYS", 5))
    ESCALATION_MAX_ATTEMPTS = int(os.environ.get("ESCALATION_MAX_ATTEMPTS", 5))
    SCHEDULER_INTERVAL = int(os.environ.get("SCHEDULER_INTERVAL", 30))
    # Reverse proxies in front of the app whose X-Forwarded-For / -Proto are trusted (0: none).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    # The public tip box (监督工作箱): per client address and in all, per window (seconds).
    TIP_RATE_WINDOW = int(os.environ.get("TIP_RATE_WINDOW", 3600))
    TIP_RATE_PER_CLIENT = int(os.environ.get("TIP_RATE_PER_CLIENT", 10))
    TIP_RATE_TOTAL = int(os.environ.get("TIP_RATE_TOTAL", 1000))
    # Wrong receipt codes: after the free ones (per client address, per code tried) the next wrong
    # code waits TIP_LOOKUP_DELAY_SECONDS, doubling up to the cap; a correct code is never held back.
    TIP_LOOKUP_ADDRESS_FREE_FAILURES = int(os.environ.get("TIP_LOOKUP_ADDRESS_FREE_FAILURES", 10))
    TIP_LOOKUP_CODE_FREE_FAILURES = int(os.environ.get("TIP_LOOKUP_CODE_FREE_FAILURES", 5))
    TIP_LOOKUP_DELAY_SECONDS = int(os.environ.get("TIP_LOOKUP_DELAY_SECONDS", 30))
    TIP_LOOKUP_ADDRESS_MAX_DELAY_SECONDS = int(os.environ.get("TIP_LOOKUP_ADDRESS_MAX_DELAY_SECONDS", 3600))
    TIP_LOOKUP_CODE_MAX_DELAY_SECONDS = int(os.environ.get("TIP_LOOKUP_CODE_MAX_DELAY_SECONDS", 3600))
    TIP_MAX_PHOTOS = int(os.environ.get("TIP_MAX_PHOTOS", 4))
    TIP_MAX_PHOTO_BYTES = int(os.environ.get("TIP_MAX_PHOTO_BYTES", 5 * 1024 * 1024))
    TIP_MAX_TOTAL_BYTES = int(os.environ.get("TIP_MAX_TOTAL_BYTES", 12 * 1024 * 1024))
    TIP_MAX_TEXT = int(os.environ.get("TIP_MAX_TEXT", 2000))
    # Beyond this many units the tip form names only the unit whose public page the resident came from.
    TIP_UNIT_SELECT_MAX = int(os.environ.get("TIP_UNIT_SELECT_MAX", 300))
    # Argon2id cost of password hashes; the defaults are argon2-cffi's own (RFC 9106 low-memory
    # profile: 3 passes over 64 MiB, 4 lanes). Hashes made with other values still verify and are
    # redone with these at the next successful login.
    PASSWORD_HASH_TIME_COST = int(os.environ.get("PASSWORD_HASH_TIME_COST", 3))
    PASSWORD_HASH_MEMORY_COST = int(os.environ.get("PASSWORD_HASH_MEMORY_COST", 65536))  # KiB
    PASSWORD_HASH_PARALLELISM = int(os.environ.get("PASSWORD_HASH_PARALLELISM", 4))
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", 25))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_SENDER = os.environ.get("SMTP_SENDER", "rectify@localhost")
    # The working-day calendar (节假日安排): each process looks for a change the office made at most
    # this often (seconds; negative: only at its first app context), besides every scheduler sweep.
    CALENDAR_CHECK_SECONDS = int(os.environ.get("CALENDAR_CHECK_SECONDS", 10))
    # After a change, open deadlines are recomputed in batches of this many instances: while the
    # office waits for up to this many seconds, then by the scheduler's sweeps (as long each).
    CALENDAR_RECOMPUTE_BATCH = int(os.environ.get("CALENDAR_RECOMPUTE_BATCH", 100))
    CALENDAR_RECOMPUTE_SECONDS = float(os.environ.get("CALENDAR_RECOMPUTE_SECONDS", 20))


class DevelopmentConfig(Config):
    # The development server speaks plain http on 127.0.0.1.
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class ProductionConfig(Config):
    """RECTIFY_CONFIG=config.ProductionConfig (gunicorn.conf.py's default). create_app refuses to
    start on insecure settings: no SECRET_KEY or a short or default one, debug on, cookies allowed
    over plain HTTP, or SQLite under several web workers unless SQLITE_MULTI_WORKER=1 says so."""

    PRODUCTION = True
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # gunicorn's worker count (gunicorn.conf.py sets it in the environment of the workers it starts).
    WEB_WORKERS = int(os.environ.get("WEB_WORKERS", 1))
    # SQLite takes one writer at a time; several workers on it must be asked for on purpose.
    SQLITE_MULTI_WORKER = os.environ.get("SQLITE_MULTI_WORKER", "0") == "1"


class TestConfig(Config):
    TESTING = True
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SECRET_KEY = "test"
    # Cheap hashes: at the production cost hashing was two thirds of the suite's time.
    # (tests/integration/test_password_hashing.py proves production keeps the strong parameters.)
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_COST = 8  # KiB, argon2's minimum for one lane
    PASSWORD_HASH_PARALLELISM = 1
    # Tests log in and then move the clock days ahead: no idle timeout here (the idle-timeout test in
    # tests/integration/test_login_security.py sets the default of 30 minutes itself).
    SESSION_IDLE_MINUTES = 60 * 24 * 365 * 10
    # The tests refresh the calendar themselves (tests/conftest.py after each test), so no page
    # gains a query at a moment that depends on how long the tests took.
    CALENDAR_CHECK_SECONDS = -1
    AUDIT_ANCHOR_DIR = ""  # no daily anchor unless a test asks for one (tests/integration/test_audit_chain.py)
