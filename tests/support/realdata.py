"""Where the real upstream files live, and a skip with the reason when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ``DEALERFLOW_REALDATA`` overrides; default ``../shared/realdata`` next to the repository.
REALDATA = Path(os.environ.get("DEALERFLOW_REALDATA") or Path(__file__).resolve().parents[3] / "shared" / "realdata")


def realdata_path(*parts: str) -> Path:
    """Path of a real upstream file, or ``pytest.skip`` naming what is missing."""
    if not REALDATA.is_dir():
        pytest.skip(f"real-data folder {REALDATA} is absent (set DEALERFLOW_REALDATA to point at it)")
    path = REALDATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real-data file {path} is absent")
    return path
