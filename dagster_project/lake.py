"""The raw lake: immutable, versioned Parquet per source partition, with the original payloads beside it.

Layout::

    <lake>/<dataset>/<key1>=<v1>/<key2>=<v2>/v=<version_id>/
        data.parquet      rows as parsed, plus _version_id / _landed_at / _content_hash columns
        payload/...       the bytes exactly as the source sent them
        manifest.json     rows, content hash, source, fetch facts (record totals, URLs)

A version directory is written under a dot-prefixed temporary name and renamed into place, so a
reader (or a glob such as ``*/v=*/data.parquet``) never sees half a version and a crash leaves only
an ignorable temporary folder. Landing the same content again adds nothing; restated content adds
a new version beside the old one. Nothing here ever deletes or overwrites a landed version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

from dagster_project.errors import DealerflowError

VERSION_PREFIX = "v="
META_COLUMNS = ("_version_id", "_landed_at", "_content_hash")


@dataclass(frozen=True)
class Version:
    dataset: str
    partition: dict[str, str]
    version_id: str
    path: Path
    manifest: dict

    @property
    def data_path(self) -> Path:
        return self.path / "data.parquet"

    @property
    def content_hash(self) -> str:
        return self.manifest["content_hash"]

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])


@dataclass(frozen=True)
class LandResult:
    version: Version
    is_new: bool


def content_hash(table: pa.Table) -> str:
    """Order-independent hash of a table's rows (sources do not promise a row order)."""
    if table.num_rows == 0:
        return hashlib.sha256(b"empty:" + ",".join(table.schema.names).encode()).hexdigest()
    import duckdb

    con = duckdb.connect()
    try:
        con.register("t", table)
        cols = ", ".join(f'"{c}"' for c in table.schema.names)
        # Sort the rows by their own text form, then hash: exact, independent of arrival order.
        sql = f"select sha256(string_agg(r, chr(10) order by r)) from (select cast(row({cols}) as varchar) as r from t)"
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


class Lake:
    def __init__(self, root: Path):
        self.root = Path(root)

    # -- paths -----------------------------------------------------------------------------------
    def partition_dir(self, dataset: str, partition: dict[str, str]) -> Path:
        path = self.root / _safe_segment(dataset)
        for key, value in partition.items():
            path = path / f"{_safe_segment(key)}={_safe_segment(str(value))}"
        return path

    def glob(self, dataset: str) -> str:
        """Glob matching every landed version's data file of a dataset (for DuckDB ``read_parquet``)."""
        depth = self._partition_depth(dataset)
        return str(self.root / dataset / ("*/" * depth) / "v=*" / "data.parquet").replace("//", "/")

    def _partition_depth(self, dataset: str) -> int:
        root = self.root / dataset
        for manifest in root.glob("**/v=*/manifest.json"):
            return len(json.loads(manifest.read_text())["partition"])
        return 0

    # -- reading ---------------------------------------------------------------------------------
    def versions(self, dataset: str, partition: dict[str, str]) -> list[Version]:
        pdir = self.partition_dir(dataset, partition)
        if not pdir.is_dir():
            return []
        out = []
        for vdir in sorted(pdir.glob(f"{VERSION_PREFIX}*")):
            manifest_path = vdir / "manifest.json"
            if manifest_path.is_file():
                out.append(Version(dataset, dict(partition), vdir.name[len(VERSION_PREFIX):], vdir,
                                   json.loads(manifest_path.read_text())))
        return out

    def latest(self, dataset: str, partition: dict[str, str]) -> Version | None:
        versions = self.versions(dataset, partition)
        return versions[-1] if versions else None

    def partitions(self, dataset: str) -> list[dict[str, str]]:
        """Every partition of a dataset that holds at least one version."""
        seen: dict[tuple, dict[str, str]] = {}
        for manifest in sorted((self.root / dataset).glob("**/v=*/manifest.json")):
            partition = json.loads(manifest.read_text())["partition"]
            seen[tuple(partition.items())] = partition
        return list(seen.values())

    # -- writing ---------------------------------------------------------------------------------
    def land(
        self,
        dataset: str,
        partition: dict[str, str],
        table: pa.Table,
        payloads: dict[str, bytes | Path],
        facts: dict | None = None,
        landed_at: datetime | None = None,
    ) -> LandResult:
        """Land one partition's rows and original payloads as a new version, unless the content is unchanged.

        A payload given as a ``Path`` (an already landed payload file with the same bytes) is hard-linked
        rather than written again: landed files are never modified, so sharing them is safe.
        """
        pdir = self.partition_dir(dataset, partition)
        pdir.mkdir(parents=True, exist_ok=True)
        digest = content_hash(table)
        with FileLock(str(pdir / ".land.lock")):
            latest = self.latest(dataset, partition)
            if latest is not None and latest.content_hash == digest:
                return LandResult(latest, is_new=False)
            landed_at = landed_at or datetime.now(timezone.utc)
            version_id = landed_at.strftime("%Y%m%dT%H%M%S%fZ")
            if latest is not None and version_id <= latest.version_id:
                raise DealerflowError(
                    f"{dataset} {partition}: clock went backwards ({version_id} <= landed {latest.version_id}); refusing to land"
                )
            final = pdir / f"{VERSION_PREFIX}{version_id}"
            tmp = pdir / f".tmp-{version_id}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            (tmp / "payload").mkdir(parents=True)
            for name, data in payloads.items():
                target = tmp / "payload" / _safe_relpath(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(data, Path):
                    _link_or_copy(data, target)
                else:
                    target.write_bytes(data)
            stamped = _stamp(table, version_id, landed_at, digest)
            pq.write_table(stamped, tmp / "data.parquet", compression="zstd")
            manifest = {
                "dataset": dataset,
                "partition": dict(partition),
                "version_id": version_id,
                "landed_at": landed_at.isoformat(),
                "rows": table.num_rows,
                "content_hash": digest,
                "supersedes": latest.version_id if latest else None,
                "facts": facts or {},
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
            _fsync_tree(tmp)
            os.replace(tmp, final)
            _fsync_dir(pdir)
            return LandResult(Version(dataset, dict(partition), version_id, final, manifest), is_new=True)

    def quarantine(self, dataset: str, name: str, data: bytes, reason: str) -> Path:
        """Keep a rejected input (never lost) with the reason beside it; returns where it went."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        qdir = self.root.parent / "quarantine" / _safe_segment(dataset) / stamp
        qdir.mkdir(parents=True, exist_ok=True)
        target = qdir / _safe_segment(Path(name).name or "input")
        target.write_bytes(data)
        (qdir / "REASON.txt").write_text(reason + "\n")
        return target


def _stamp(table: pa.Table, version_id: str, landed_at: datetime, digest: str) -> pa.Table:
    n = table.num_rows
    table = table.append_column("_version_id", pa.array([version_id] * n, pa.string()))
    table = table.append_column("_landed_at", pa.array([landed_at] * n, pa.timestamp("us", tz="UTC")))
    return table.append_column("_content_hash", pa.array([digest] * n, pa.string()))


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links unsupported
        shutil.copyfile(source, target)


def _safe_segment(value: str) -> str:
    """A single path segment: no separators, no parent references (user input cannot escape the lake)."""
    if not value or value in {".", ".."} or "/" in value or "\\" in value or "\x00" in value:
        raise DealerflowError(f"unsafe path segment {value!r}")
    return value


def _safe_relpath(name: str) -> Path:
    parts = Path(name).parts
    if not parts or Path(name).is_absolute():
        raise DealerflowError(f"unsafe payload name {name!r}")
    return Path(*(_safe_segment(p) for p in parts))


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
