"""Where dealerflow keeps things and where it fetches from.

Everything the pipeline writes lives under one home folder (``DEALERFLOW_HOME``, default
``./.dealerflow``): the raw lake, the DuckDB warehouse, its published BI snapshot, quarantined
files and ``DAGSTER_HOME``. Every source's base URL can be redirected with
``DEALERFLOW_<SOURCE>_URL`` so tests and mirrors never need the real hosts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = ".dealerflow"

#: Production base URLs, overridable with ``DEALERFLOW_<SOURCE>_URL``.
DEFAULT_SOURCE_URLS = {
    "FINRA_API": "https://api.finra.org",
    "FINRA_CDN": "https://cdn.finra.org",
    "CBOE": "https://cdn.cboe.com",
    "OCC": "https://marketdata.theocc.com",
    "SEC": "https://www.sec.gov",
}


def source_url(source: str) -> str:
    """Base URL of a source (``FINRA_API``, ``FINRA_CDN``, ``CBOE``, ``OCC``, ``SEC``), no trailing slash."""
    key = source.upper()
    if key not in DEFAULT_SOURCE_URLS:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(sorted(DEFAULT_SOURCE_URLS))}")
    return os.environ.get(f"DEALERFLOW_{key}_URL", DEFAULT_SOURCE_URLS[key]).rstrip("/")


def contact_user_agent() -> str:
    """User-Agent with a contact address, as the SEC requires (``DEALERFLOW_CONTACT``)."""
    contact = os.environ.get("DEALERFLOW_CONTACT", "dealerflow-operator@example.org")
    return f"dealerflow/0.1 (+https://github.com/dealerflow/dealerflow; contact: {contact})"


@dataclass(frozen=True)
class Paths:
    """The folders and files under one dealerflow home."""

    home: Path

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "dealerflow.duckdb"

    @property
    def bi_snapshot(self) -> Path:
        """Read-only copy for BI tools, replaced atomically after every successful build."""
        return self.home / "warehouse" / "bi" / "dealerflow.duckdb"

    @property
    def warehouse_lock(self) -> Path:
        return self.home / "warehouse" / ".writer.lock"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def exports(self) -> Path:
        return self.home / "exports"


def dealerflow_home() -> Path:
    return Path(os.environ.get("DEALERFLOW_HOME", DEFAULT_HOME)).expanduser().resolve()


def paths() -> Paths:
    return Paths(dealerflow_home())
