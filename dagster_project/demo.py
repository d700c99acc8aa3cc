"""The offline demo: every dataset's synthetic source through the real pipeline, then a summary."""

from __future__ import annotations

from datetime import date, timedelta

from dagster_project.publication_calendar import TIERS, finra_weekly_latest_due
from dagster_project.settings import Paths, paths


def demo_steps() -> list:
    """Each step is ``(name, fn(p, today, weeks, scale) -> str)``; datasets append their own step here."""
    return [("FINRA weekly OTC transparency", _finra_weekly)]


def _finra_weekly(p: Paths, today: date, weeks: int, scale: float) -> str:
    from dagster_project.runner import run_finra_weekly

    last = finra_weekly_latest_due(today, "T1")
    first = last - timedelta(days=7 * (weeks - 1))
    return run_finra_weekly(first, last, list(TIERS), "synthetic", None, scale, p=p)


def run_demo(weeks: int = 8, scale: float = 0.05, p: Paths | None = None, today: date | None = None,
             progress=lambda message: None) -> str:
    p, today = p or paths(), today or date.today()
    outputs = []
    for name, step in demo_steps():
        progress(f"demo: {name}")
        outputs.append(step(p, today, weeks, scale))
    from dagster_project.runner import summary

    outputs.append(summary(p))
    return "\n".join(outputs)
