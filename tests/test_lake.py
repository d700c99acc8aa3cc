"""The immutable lake: versions, idempotence, atomicity, quarantine, and paths that cannot escape."""

import json
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.errors import DealerflowError
from dagster_project.lake import LEGACY_HASH_SCHEME, Lake, content_hash

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


def test_content_hash_tells_nulls_from_zeros_and_empty_strings_and_is_exact_for_every_type():
    from datetime import date
    from decimal import Decimal

    base = pa.table({"s": pa.array(["a", "", None]), "d": pa.array([date(2026, 1, 5), None, date(2026, 1, 6)]),
                     "q": pa.array([Decimal("1.000001"), Decimal("0"), None], pa.decimal128(38, 6)),
                     "b": pa.array([True, None, False]), "t": pa.array([1, None, 0], pa.timestamp("us", tz="UTC"))})
    digest = content_hash(base)
    assert digest == content_hash(base.take([2, 1, 0])) == content_hash(pa.concat_tables([base.slice(0, 1), base.slice(1)]))
    variants = {
        "s": pa.array(["a", None, None]), "d": pa.array([date(2026, 1, 5), date(1970, 1, 1), date(2026, 1, 6)]),
        "q": pa.array([Decimal("1.000002"), Decimal("0"), None], pa.decimal128(38, 6)),
        "b": pa.array([True, False, False]), "t": pa.array([1, 0, 0], pa.timestamp("us", tz="UTC")),
    }
    for name, column in variants.items():
        changed = base.set_column(base.schema.get_field_index(name), name, column)
        assert content_hash(changed) != digest, name
    # a sliced column (non-zero offset) digests the same as a fresh one
    shifted = pa.table({name: pa.concat_arrays([col.combine_chunks().slice(0, 0), col.combine_chunks()]).slice(0)
                        for name, col in zip(base.schema.names, base.columns)})
    assert content_hash(pa.concat_tables([base, base]).slice(3)) == digest == content_hash(shifted)


def test_versions_hashed_by_the_first_scheme_still_recognise_unchanged_content(tmp_path):
    lake = Lake(tmp_path)
    first = lake.land("ds", PART, _table([1, 2]), {})
    manifest_path = first.version.path / "manifest.json"
    legacy = json.loads(manifest_path.read_text())
    del legacy["content_hash_scheme"]
    legacy["content_hash"] = content_hash(_table([1, 2]), LEGACY_HASH_SCHEME)
    manifest_path.write_text(json.dumps(legacy))
    assert not lake.land("ds", PART, _table([1, 2]).take([1, 0]), {}).is_new
    assert lake.land("ds", PART, _table([1, 3]), {}).is_new


def test_compressed_payloads_keep_the_exact_bytes_and_can_be_linked(tmp_path):
    lake = Lake(tmp_path)
    page = b'[{"a": 1.50}]' * 1000
    first = lake.land("ds", PART, _table([1]), {"pages/page-1.json": page}, compress_payloads=True)
    stored = first.version.payload_path("pages/page-1.json")
    assert stored.name == "page-1.json.zst" and stored.stat().st_size < len(page) / 5
    assert first.version.read_payload("pages/page-1.json") == page
    other = {**PART, "kind": "OTC"}
    linked = lake.land("ds", other, _table([2]), {"pages/page-1.json": stored}, compress_payloads=True)
    assert linked.version.payload_path("pages/page-1.json").stat().st_ino == stored.stat().st_ino
    assert linked.version.read_payload("pages/page-1.json") == page
    plain = lake.land("ds", {**PART, "tier": "T2"}, _table([3]), {"page-1.json": stored})
    assert plain.version.read_payload("page-1.json") == page  # a compressed file given to an identity lake is expanded


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
