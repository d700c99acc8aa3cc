"""The as-of tests land data with the dealer-flow tests' small-lake helpers (tests/dealer_flow/small_lake.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dealer_flow"))
