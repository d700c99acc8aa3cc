"""Fixtures for the short / settlement layer tests (real-data and replay-server fixtures are suite-wide)."""

from __future__ import annotations

import pytest

from dagster_project.sources.http import HttpPolicy


@pytest.fixture
def fast_policy() -> HttpPolicy:
    """No retries, short timeouts: a local server answers at once."""
    return HttpPolicy(retries=0, backoff_factor=0.0, connect_timeout=2.0, read_timeout=5.0)
