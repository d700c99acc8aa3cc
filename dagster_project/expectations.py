"""Great Expectations 1.x suites (JSON under ``expectations/``) run on DataFrames.

GX is imported lazily: it costs seconds to import, and only checks need it. Its SQL datasource does
not work on DuckDB, so data is pulled into pandas first. Analytics and progress bars are off. One
ephemeral context per process and suite is reused across validations (building one costs ~0.1 s).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SUITES_DIR = Path(__file__).resolve().parent.parent / "expectations"


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    evaluated: int
    failures: list[dict]

    def summary(self) -> str:
        if self.success:
            return f"{self.suite}: all {self.evaluated} expectations met"
        return f"{self.suite}: " + "; ".join(f"{f['expectation']} on {f['column']} ({f['unexpected_count']} rows)" for f in self.failures)


def frame_for_validation(table: pa.Table) -> pd.DataFrame:
    """A pandas frame of ``table`` for GX: exact decimals as float64, strings as categoricals.

    pandas holds decimals as Python ``Decimal`` objects, which GX evaluates row by row (~12 us/row, and
    ~1 KB/row of memory). The suites check nulls, value sets and signs/ranges, which a float64 preserves
    (a cast keeps nulls and the sign of every value); the lake and the warehouse keep the exact decimals.
    GX filters the whole frame once per expectation: categorical strings make those copies integer takes.
    """
    columns = {f.name: pc.cast(table[f.name], pa.float64()) if pa.types.is_decimal(f.type) else table[f.name]
               for f in table.schema}
    return pa.table(columns).to_pandas(strings_to_categorical=True)


def validate(suite_name: str, frame: pd.DataFrame | pa.Table) -> SuiteResult:
    if isinstance(frame, pa.Table):
        frame = frame_for_validation(frame)
    context, suite, batch_definition = _suite_context(suite_name)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format="SUMMARY")
    failures = [
        {"expectation": r.expectation_config.type, "column": r.expectation_config.kwargs.get("column"),
         "unexpected_count": (r.result or {}).get("unexpected_count"),
         "examples": [str(v) for v in (r.result or {}).get("partial_unexpected_list", [])[:5]]}
        for r in result.results if not r.success
    ]
    return SuiteResult(suite_name, bool(result.success), len(result.results), failures)


def validate_snapshot_query(home: str, suite_name: str, sql: str, params: list) -> tuple[int, SuiteResult | None]:
    """Validate the rows ``sql`` returns on the BI snapshot of ``home``: (rows, result), result None for no rows.

    A function of picklable arguments that opens its own read-only connection, so a check can run many of them in
    worker processes."""
    from dagster_project.settings import Paths
    from dagster_project.warehouse import connect_snapshot

    with connect_snapshot(Paths(Path(home))) as con:
        table = con.sql(sql, params=params).to_arrow_table()
    if not table.num_rows:
        return 0, None
    return table.num_rows, validate(suite_name, table)


@functools.cache
def _suite_context(suite_name: str):
    """An ephemeral GX context holding one suite and a whole-DataFrame batch definition (reused per process)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    spec = json.loads((SUITES_DIR / f"{suite_name}.json").read_text())
    spec.pop("id", None)
    suite = context.suites.add(ExpectationSuite(**spec))
    batch_definition = (context.data_sources.add_pandas("dealerflow").add_dataframe_asset(suite_name)
                        .add_batch_definition_whole_dataframe("whole"))
    return context, suite, batch_definition
