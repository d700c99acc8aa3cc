"""Where the real upstream files live, and a skip with the reason when they are absent (a failure in CI)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ``DEALERFLOW_REALDATA`` overrides; default ``../shared/realdata`` next to the repository.
REALDATA = Path(os.environ.get("DEALERFLOW_REALDATA") or Path(__file__).resolve().parents[3] / "shared" / "realdata")


#: Set by .ci/run: CI has the real-data folder, so a missing file there is a failure, not a skip that proves nothing.
REQUIRED = os.environ.get("DEALERFLOW_REQUIRE_REALDATA") == "1"


def _missing(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (DEALERFLOW_REQUIRE_REALDATA=1: the conformance tests must run)")
    pytest.skip(reason)


def realdata_path(*parts: str) -> Path:
    """Path of a real upstream file, or a skip naming what is missing (a failure when REQUIRED)."""
    if not REALDATA.is_dir():
        _missing(f"real-data folder {REALDATA} is absent (set DEALERFLOW_REALDATA to point at it)")
    path = REALDATA.joinpath(*parts)
    if not path.is_file():
        _missing(f"real-data file {path} is absent")
    return path
