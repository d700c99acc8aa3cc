"""Reliability suite helpers (imported by the tests; fixtures are in conftest.py): snapshot everything already landed (and the marts), then prove nothing was lost.

``HomeSnapshot.of(home)`` records, for every lake version: its rows (counted in ``data.parquet`` and stated in the
manifest), the content hash recomputed from the rows, and the SHA-256 of every file in the version folder
(``data.parquet``, ``manifest.json``, ``payload/...``); plus each marts table of the BI snapshot exported as CSV
(ordered by all columns). ``assert_preserved(before, after, new=...)`` fails unless every earlier version is still
there byte for byte, and the only new versions are the ones the case expects.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from dagster_project.lake import META_COLUMNS, content_hash
from dagster_project.settings import Paths

DEALERFLOW = str(Path(sys.executable).parent / "dealerflow")
#: Weeks of the replayed FINRA weekly source used across the suite (T1 due long before today, 2026-11-21).
W1, W2, W3 = date(2026, 8, 3), date(2026, 8, 10), date(2026, 8, 17)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class VersionRecord:
    rows: int
    manifest_rows: int
    content_hash: str
    manifest_content_hash: str
    files: dict[str, str]


@dataclass
class HomeSnapshot:
    versions: dict[str, VersionRecord] = field(default_factory=dict)  # "<dataset>/<k=v>/.../v=<id>" -> record
    marts: dict[str, bytes] = field(default_factory=dict)             # marts table -> CSV export

    @classmethod
    def of(cls, home: Path) -> "HomeSnapshot":
        lake = Paths(home).lake
        snap = cls()
        for manifest_path in sorted(lake.glob("**/v=*/manifest.json")):
            vdir = manifest_path.parent
            manifest = json.loads(manifest_path.read_text())
            table = pq.read_table(vdir / "data.parquet")
            rows_only = table.drop_columns([c for c in META_COLUMNS if c in table.schema.names])
            snap.versions[str(vdir.relative_to(lake))] = VersionRecord(
                rows=table.num_rows, manifest_rows=int(manifest["rows"]), content_hash=content_hash(rows_only),
                manifest_content_hash=manifest["content_hash"],
                files={str(f.relative_to(vdir)): sha256(f) for f in sorted(vdir.rglob("*")) if f.is_file()})
        if Paths(home).bi_snapshot.is_file():
            snap.marts = export_marts(Paths(home).bi_snapshot)
        return snap

    def partitions(self) -> set[str]:
        return {k.rsplit("/v=", 1)[0] for k in self.versions}

    def rows(self, partition_prefix: str) -> int:
        """Rows of the newest version of every partition under ``partition_prefix``."""
        newest: dict[str, str] = {}
        for key in sorted(self.versions):
            newest[key.rsplit("/v=", 1)[0]] = key
        return sum(self.versions[k].rows for p, k in newest.items() if p.startswith(partition_prefix))


def export_marts(db: Path) -> dict[str, bytes]:
    """Every ``marts`` table exported with ``COPY (... ORDER BY ALL) TO csv``: the bytes BI users would see."""
    out = {}
    tmp = db.parent.parent / ".reliability-export"
    tmp.mkdir(exist_ok=True)
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts' order by 1").fetchall()]
        for table in tables:
            target = tmp / f"{table}.csv"
            con.execute(f"copy (select * from marts.\"{table}\" order by all) to '{target}' (header, delimiter ',')")
            out[table] = target.read_bytes()
            target.unlink()
    tmp.rmdir()
    return out


def assert_preserved(before: HomeSnapshot, after: HomeSnapshot, new: dict[str, int] | None = None,
                     marts_may_change: bool = False) -> None:
    """Every version in ``before`` is unchanged in ``after``; new versions appear only where ``new`` says
    (partition path -> how many new versions); each version's rows agree with its manifest and content hash."""
    new = new or {}
    for key, record in after.versions.items():
        assert record.rows == record.manifest_rows, f"{key}: data.parquet holds {record.rows} rows, manifest says {record.manifest_rows}"
        assert record.content_hash == record.manifest_content_hash, f"{key}: rows do not match the manifest's content hash"
    lost = sorted(set(before.versions) - set(after.versions))
    assert not lost, f"landed versions disappeared: {lost}"
    changed = sorted(k for k in before.versions if after.versions[k] != before.versions[k])
    assert not changed, f"landed versions changed: {changed}"
    added: dict[str, int] = {}
    for key in set(after.versions) - set(before.versions):
        partition = key.rsplit("/v=", 1)[0]
        added[partition] = added.get(partition, 0) + 1
    assert added == new, f"new versions {added}, expected {new}"
    if not marts_may_change:
        assert after.marts == before.marts, "mart exports changed"


def run_cli(args: list[str], home: Path, timeout: float = 300, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DEALERFLOW_HOME": str(home), "DEALERFLOW_LOG_LEVEL": "WARNING", **env}
    return subprocess.run([DEALERFLOW, *args], env=environment, capture_output=True, text=True, timeout=timeout)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def finra_partition(week: date, tier: str, kind: str) -> str:
    return f"finra_weekly/week={week.isoformat()}/tier={tier}/kind={kind}"


#: The backfill every end-to-end case runs: weeks W1..W2 of Tier 1 from the replay folder.
BACKFILL_WEEKS = ["--from", W1.isoformat(), "--to", W2.isoformat(), "--tiers", "T1"]


def backfill_args(replay: Path) -> list[str]:
    return ["backfill", "--source", "replay", "--replay-dir", str(replay), *BACKFILL_WEEKS]


_BUILT: dict[str, object] = {}


def built_once(key: str, build):
    """``build()`` once per worker process. pytest-xdist tears module and session fixtures down whenever a worker's
    queue runs dry and sets them up again; the expensive scenarios (a backfill, a build) must not run twice."""
    if key not in _BUILT:
        _BUILT[key] = build()
    return _BUILT[key]
