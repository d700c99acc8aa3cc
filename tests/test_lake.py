"""The immutable lake: versions, idempotence, atomicity, quarantine, and paths that cannot escape."""

import json
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.errors import DealerflowError
from dagster_project.lake import Lake, content_hash

PART = {"week": "2026-09-07", "tier": "T1", "kind": "ATS"}


def _table(values):
    return pa.table({"symbol": [f"S{i}" for i in range(len(values))], "qty": pa.array(values, pa.int64())})


def test_landing_twice_is_idempotent_and_restatements_add_versions(tmp_path):
    lake = Lake(tmp_path)
    first = lake.land("ds", PART, _table([1, 2, 3]), {"page-1.json": b"[1,2,3]"}, {"origin": "test"})
    again = lake.land("ds", PART, _table([1, 2, 3]), {"page-1.json": b"[1,2,3]"})
    assert first.is_new and not again.is_new and again.version.version_id == first.version.version_id
    restated = lake.land("ds", PART, _table([1, 2, 4]), {"page-1.json": b"[1,2,4]"})
    versions = lake.versions("ds", PART)
    assert [v.version_id for v in versions] == [first.version.version_id, restated.version.version_id]
    assert restated.version.manifest["supersedes"] == first.version.version_id
    # the old version is still there, byte for byte
    assert pq.read_table(versions[0].data_path).column("qty").to_pylist() == [1, 2, 3]
    assert (versions[0].path / "payload" / "page-1.json").read_bytes() == b"[1,2,3]"
    assert json.loads((versions[1].path / "manifest.json").read_text())["rows"] == 3


def test_content_hash_ignores_row_order_but_not_values():
    t = _table([5, 6, 7])
    assert content_hash(t) == content_hash(t.take([2, 0, 1]))
    assert content_hash(t) != content_hash(_table([5, 6, 8]))
    assert content_hash(t.slice(0, 0)) == content_hash(_table([]))


def test_rows_carry_their_version(tmp_path):
    result = Lake(tmp_path).land("ds", PART, _table([1]), {}, landed_at=datetime(2026, 1, 2, tzinfo=timezone.utc))
    row = pq.read_table(result.version.data_path).to_pylist()[0]
    assert row["_version_id"] == result.version.version_id == "20260102T000000000000Z"
    assert row["_content_hash"] == result.version.content_hash


def test_empty_versions_are_landed(tmp_path):
    lake = Lake(tmp_path)
    lake.land("ds", PART, _table([1]), {})
    empty = lake.land("ds", PART, _table([]), {})
    assert empty.is_new and empty.version.rows == 0 and len(lake.versions("ds", PART)) == 2


def test_half_written_versions_are_invisible(tmp_path):
    lake = Lake(tmp_path)
    lake.land("ds", PART, _table([1]), {})
    crashed = lake.partition_dir("ds", PART) / ".tmp-20990101T000000000000Z-123"
    crashed.mkdir()
    (crashed / "data.parquet").write_bytes(b"partial")
    assert len(lake.versions("ds", PART)) == 1
    assert lake.partitions("ds") == [PART]


def test_clock_going_backwards_is_refused(tmp_path):
    lake = Lake(tmp_path)
    lake.land("ds", PART, _table([1]), {}, landed_at=datetime(2026, 5, 1, tzinfo=timezone.utc))
    with pytest.raises(DealerflowError, match="clock went backwards"):
        lake.land("ds", PART, _table([2]), {}, landed_at=datetime(2026, 4, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("partition", [{"week": "../etc"}, {"week": "a/b"}, {"..": "x"}, {"week": ""}])
def test_partition_values_cannot_escape_the_lake(tmp_path, partition):
    with pytest.raises(DealerflowError, match="unsafe path segment"):
        Lake(tmp_path).land("ds", partition, _table([1]), {})


@pytest.mark.parametrize("name", ["../x.json", "/etc/passwd", "a/../../b"])
def test_payload_names_cannot_escape(tmp_path, name):
    with pytest.raises(DealerflowError, match="unsafe"):
        Lake(tmp_path).land("ds", PART, _table([1]), {name: b"x"})


def test_quarantine_keeps_the_bytes_and_the_reason(tmp_path):
    lake = Lake(tmp_path / "lake")
    where = lake.quarantine("ds", "../../bad file.txt", b"\x00garbage", "line 3: not numeric")
    assert where.read_bytes() == b"\x00garbage"
    assert where.parent.parent.parent == tmp_path / "quarantine"
    assert (where.parent / "REASON.txt").read_text().strip() == "line 3: not numeric"
