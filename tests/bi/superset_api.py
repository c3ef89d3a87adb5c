"""Superset's REST API, the calls an analyst's tooling makes: log in (JWT) → CSRF token →
register a database → run SQL in SQL Lab."""

from __future__ import annotations

import json

import requests

# The read-only setting that works, exactly as docs/bi.md gives it: Superset passes
# extra.engine_params to SQLAlchemy's create_engine, whose connect_args reach duckdb.connect().
READ_ONLY_EXTRA = {"engine_params": {"connect_args": {"read_only": True}}}
# The old README's setting: accepted (201) but not an engine parameter, so ignored.
TOP_LEVEL_CONNECT_ARGS_EXTRA = {"connect_args": {"read_only": True}}


class SqlLabError(RuntimeError):
    """A SQL Lab call that did not return rows: HTTP error or a query status other than success."""


class SupersetApi:
    def __init__(self, url: str, username: str, password: str, timeout: float = 120.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self._log_in(username, password)

    def _log_in(self, username: str, password: str) -> None:
        r = self.session.post(
            f"{self.url}/api/v1/security/login",
            timeout=self.timeout,
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )
        r.raise_for_status()
        self.session.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        r = self.session.get(f"{self.url}/api/v1/security/csrf_token/", timeout=self.timeout)
        r.raise_for_status()
        self.session.headers["X-CSRFToken"] = r.json()["result"]
        self.session.headers["Referer"] = self.url  # Superset checks it on CSRF-protected calls

    def register_database(self, name: str, sqlalchemy_uri: str, extra: dict) -> int:
        """POST /api/v1/database/ (what the UI's "Connect a database" form sends); returns its id."""
        r = self.session.post(
            f"{self.url}/api/v1/database/",
            timeout=self.timeout,
            json={
                "database_name": name,
                "sqlalchemy_uri": sqlalchemy_uri,
                "expose_in_sqllab": True,
                "extra": json.dumps(extra),
            },
        )
        if r.status_code != 201:
            raise RuntimeError(f"registering {name}: HTTP {r.status_code} {r.text[:500]}")
        return r.json()["id"]

    def database_extra(self, database_id: int) -> dict:
        """The database's stored `extra` (GET …/connection: the full settings, as the edit form shows them)."""
        r = self.session.get(f"{self.url}/api/v1/database/{database_id}/connection", timeout=self.timeout)
        r.raise_for_status()
        return json.loads(r.json()["result"]["extra"] or "{}")

    def execute(self, database_id: int, sql: str, query_limit: int = 10_000) -> list[dict]:
        """Run `sql` synchronously in SQL Lab; return its rows (dicts, JSON types)."""
        r = self.session.post(
            f"{self.url}/api/v1/sqllab/execute/",
            timeout=self.timeout,
            json={"database_id": database_id, "sql": sql, "runAsync": False, "queryLimit": query_limit},
        )
        try:
            body = r.json()
        except ValueError:
            raise SqlLabError(f"HTTP {r.status_code}: {r.text[:500]}") from None
        if r.status_code != 200 or body.get("status") != "success":
            message = body.get("message") or body.get("errors") or body
            raise SqlLabError(f"HTTP {r.status_code}: {str(message)[:1000]}")
        return body["data"]

    def executed_sql(self, database_id: int, sql: str, query_limit: int = 10_000) -> tuple[str, int]:
        """The SQL Superset actually sent to the database, and how many rows came back."""
        r = self.session.post(
            f"{self.url}/api/v1/sqllab/execute/",
            timeout=self.timeout,
            json={"database_id": database_id, "sql": sql, "runAsync": False, "queryLimit": query_limit},
        )
        r.raise_for_status()
        body = r.json()
        return body["query"]["executedSql"], len(body["data"])
