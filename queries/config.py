"""Where the appeals database is: one resolution order for the app, the CLI and the tests."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "appeals.sqlite"
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class ConfigError(Exception):
    """A database URL that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class DatabaseTarget:
    url: str
    origin: str  # "DATABASE_URL", "secrets.toml", "default"

    @property
    def is_default(self) -> bool:
        return self.origin == "default"


def default_sqlite_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def resolve_database(secrets_path: Path = SECRETS_PATH) -> DatabaseTarget:
    """DATABASE_URL, then .streamlit/secrets.toml [connections.appeals] url, then the SQLite default."""
    env = os.environ.get("DATABASE_URL", "").strip()
    if env:
        return DatabaseTarget(env, "DATABASE_URL")
    if secrets_path.exists():
        try:
            secrets = tomllib.loads(secrets_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{secrets_path} is not valid TOML: {exc}") from exc
        url = secrets.get("connections", {}).get("appeals", {}).get("url")
        if url:
            return DatabaseTarget(str(url), "secrets.toml")
    return DatabaseTarget(default_sqlite_url(), "default")


def resolve_admin_database(secrets_path: Path = SECRETS_PATH) -> DatabaseTarget:
    """The URL for migrations, seeding, imports and user management: ADMIN_DATABASE_URL, else the app's.

    In production the app connects with a read-only role (DATABASE_URL) and these tools with an
    owner role (ADMIN_DATABASE_URL); on the embedded default both are the same SQLite file.
    """
    admin = os.environ.get("ADMIN_DATABASE_URL", "").strip()
    if admin:
        return DatabaseTarget(admin, "ADMIN_DATABASE_URL")
    return resolve_database(secrets_path)


def resolve_read_database(secrets_path: Path = SECRETS_PATH) -> DatabaseTarget:
    """Where the app reads its figures: READ_DATABASE_URL (a hot standby, docs/deploy.md), else the
    app's own URL. Sign-in, sessions, the audit log and every other write stay on DATABASE_URL."""
    read = os.environ.get("READ_DATABASE_URL", "").strip()
    if read:
        return DatabaseTarget(read, "READ_DATABASE_URL")
    return resolve_database(secrets_path)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@")[-1] if "@" in url else url


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// (psycopg2 driver) and sqlite paths; reject others."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"cannot parse database URL {mask_url(url)!r}: expected postgresql://… or sqlite:///…") from exc
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg2")
    elif backend != "sqlite":
        raise ConfigError(
            f"unsupported database {mask_url(url)!r}: only PostgreSQL (postgresql://) and SQLite (sqlite:///) are supported"
        )
    return parsed.render_as_string(hide_password=False)
