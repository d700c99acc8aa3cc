"""The raw lake: immutable, versioned Parquet per source partition, with the original payloads beside it.

Layout::

    <lake>/<dataset>/<key1>=<v1>/<key2>=<v2>/v=<version_id>/
        data.parquet      rows as parsed, plus _version_id / _landed_at / _content_hash columns
        payload/...       the bytes exactly as the source sent them (optionally as zstd frames, ``<name>.zst``)
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
import pyarrow.compute as pc
import pyarrow.parquet as pq
from filelock import FileLock

from dagster_project.errors import DealerflowError

VERSION_PREFIX = "v="
ZSTD_SUFFIX = ".zst"
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

    def payload_path(self, name: str) -> Path:
        """Where the payload landed as ``name`` is kept (``<name>.zst`` when the version compressed its payloads)."""
        return self.path / "payload" / (name + (ZSTD_SUFFIX if self.manifest.get("payload_encoding") == "zstd" else ""))

    def read_payload(self, name: str) -> bytes:
        """The payload's bytes exactly as the source sent them."""
        return _read_landed(self.payload_path(name))

    @property
    def hash_scheme(self) -> str:
        return self.manifest.get("content_hash_scheme", LEGACY_HASH_SCHEME)

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])


@dataclass(frozen=True)
class LandResult:
    version: Version
    is_new: bool


#: How ``content_hash`` digests rows; manifests record it, so a change of scheme never makes unchanged data look new.
HASH_SCHEME = "arrow-sorted-v2"
LEGACY_HASH_SCHEME = "duckdb-text-v1"  # manifests written before schemes were recorded


def content_hash(table: pa.Table, scheme: str = HASH_SCHEME) -> str:
    """Order-independent hash of a table's rows (sources do not promise a row order).

    Rows are sorted by every column, then each column is digested from canonical Arrow buffers: a validity
    byte per row, then the values with nulls zeroed (fixed-width values as their bytes, strings as offsets
    and bytes). Exact, and about 3x cheaper than formatting every row as text."""
    if scheme == LEGACY_HASH_SCHEME:
        return _text_hash(table)
    if scheme != HASH_SCHEME:
        raise DealerflowError(f"unknown content hash scheme {scheme!r}")
    if table.num_rows == 0:
        return hashlib.sha256(b"empty:" + ",".join(table.schema.names).encode()).hexdigest()
    order = pc.sort_indices(table, sort_keys=[(name, "ascending", "at_start") for name in table.schema.names])
    digest = hashlib.sha256(f"{HASH_SCHEME}:{table.num_rows}".encode())
    for name in table.schema.names:
        column = pc.take(table[name], order).combine_chunks()
        digest.update(f"|{name}:{column.type}|".encode())
        for chunk in _canonical_buffers(column, name):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical_buffers(column: pa.Array, name: str):
    n = len(column)
    yield pc.cast(pc.is_valid(column), pa.uint8()).buffers()[1][:n]
    typ = column.type
    if pa.types.is_boolean(typ):
        yield pc.cast(pc.fill_null(column, False), pa.uint8()).buffers()[1][:n]
        return
    if not (_variable_width(typ) or _fixed_width(typ)):
        try:
            column = pc.cast(column, pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DealerflowError(f"content hash: column {name} has unsupported type {typ}") from exc
        typ = column.type
    if _fixed_width(typ):
        width = typ.bit_width // 8
        zero = pa.Array.from_buffers(typ, 1, [None, pa.py_buffer(bytes(width))])[0]
        values = pc.fill_null(column, zero) if column.null_count else column
        yield values.buffers()[1][values.offset * width:(values.offset + n) * width]
        return
    empty = b"" if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) else ""
    values = pc.fill_null(column, pa.scalar(empty, typ)) if column.null_count else column
    offsets = pa.Array.from_buffers(_offset_type(typ), n + 1, [None, values.buffers()[1]], offset=values.offset)
    start, stop = offsets[0].as_py(), offsets[n].as_py()
    yield pc.subtract(offsets, pa.scalar(start, offsets.type)).buffers()[1][:(n + 1) * offsets.type.bit_width // 8]
    data = values.buffers()[2]
    yield data[start:stop] if data is not None else b""


def _variable_width(typ: pa.DataType) -> bool:
    return (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_binary(typ)
            or pa.types.is_large_binary(typ))


def _offset_type(typ: pa.DataType) -> pa.DataType:
    return pa.int64() if pa.types.is_large_string(typ) or pa.types.is_large_binary(typ) else pa.int32()


def _fixed_width(typ: pa.DataType) -> bool:
    return ((pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)
             or pa.types.is_temporal(typ)) and typ.bit_width % 8 == 0)


def _text_hash(table: pa.Table) -> str:
    """The first scheme: rows formatted as text by DuckDB, sorted, sha256 (kept to compare with older versions)."""
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
        root = self.root / dataset
        for manifest in sorted(root.glob("**/v=*/manifest.json")):
            # from the folder names, in partition order (manifests store keys sorted)
            segments = manifest.parent.parent.relative_to(root).parts
            partition = dict(segment.split("=", 1) for segment in segments)
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
        compress_payloads: bool = False,
    ) -> LandResult:
        """Land one partition's rows and original payloads as a new version, unless the content is unchanged.

        A payload given as a ``Path`` (an already landed payload file with the same bytes) is hard-linked
        rather than written again: landed files are never modified, so sharing them is safe. With
        ``compress_payloads`` each payload is kept as a standard zstd frame (``<name>.zst``, ``zstd -d`` restores
        the exact bytes; ``Version.read_payload`` reads it): JSON pages shrink ~10x, so a multi-year backfill fits.
        """
        pdir = self.partition_dir(dataset, partition)
        pdir.mkdir(parents=True, exist_ok=True)
        digest = content_hash(table)
        with FileLock(str(pdir / ".land.lock")):
            latest = self.latest(dataset, partition)
            if latest is not None and latest.content_hash == (
                    digest if latest.hash_scheme == HASH_SCHEME else content_hash(table, latest.hash_scheme)):
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
                target = tmp / "payload" / _safe_relpath(name + (ZSTD_SUFFIX if compress_payloads else ""))
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(data, Path) and (data.name.endswith(ZSTD_SUFFIX) == compress_payloads):
                    _link_or_copy(data, target)
                elif compress_payloads:
                    with pa.CompressedOutputStream(str(target), "zstd") as out:
                        out.write(_read_landed(data) if isinstance(data, Path) else data)
                else:
                    target.write_bytes(_read_landed(data) if isinstance(data, Path) else data)
            stamped = _stamp(table, version_id, landed_at, digest)
            pq.write_table(stamped, tmp / "data.parquet", compression="zstd")
            manifest = {
                "dataset": dataset,
                "partition": dict(partition),
                "version_id": version_id,
                "landed_at": landed_at.isoformat(),
                "rows": table.num_rows,
                "content_hash": digest,
                "content_hash_scheme": HASH_SCHEME,
                "payload_encoding": "zstd" if compress_payloads else "identity",
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


def _read_landed(path: Path) -> bytes:
    """A landed payload file's original bytes (``.zst`` files are payloads the lake compressed)."""
    if path.name.endswith(ZSTD_SUFFIX):
        with pa.CompressedInputStream(str(path), "zstd") as stream:
            return stream.read()
    return path.read_bytes()


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
