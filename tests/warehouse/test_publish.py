"""Publishing the BI snapshot: a byte copy of a warehouse already in the BI storage version, a conversion otherwise;
either way the snapshot is in the 1.x-readable storage version and holds the warehouse's data."""

from decimal import Decimal

import duckdb
import pytest

from dagster_project.settings import Paths
from dagster_project.warehouse import STORAGE_VERSION, publish_snapshot


def storage_version(path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()[0]
    return tags["storage_version"]


@pytest.mark.parametrize("created_with", [{"storage_compatibility_version": STORAGE_VERSION}, {}],
                         ids=["bi-storage-version", "default-storage-version"])
def test_the_snapshot_is_bi_readable_and_holds_the_data(tmp_path, created_with):
    p = Paths(tmp_path / "home")
    p.warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(p.warehouse), config=created_with) as con:
        con.execute("create schema marts")
        con.execute("create table marts.t as select range as i, cast(range as decimal(38, 6)) + 0.125 as q from range(5000)")
        expected = con.execute("select count(*), sum(q) from marts.t").fetchone()
    assert storage_version(p.warehouse).startswith(STORAGE_VERSION) == bool(created_with)

    assert publish_snapshot(p) == p.bi_snapshot
    assert storage_version(p.bi_snapshot).startswith(STORAGE_VERSION)
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        assert con.execute("select count(*), sum(q) from marts.t").fetchone() == expected
        assert isinstance(expected[1], Decimal)
    assert not list(p.bi_snapshot.parent.glob(".*.tmp*"))
    if created_with:  # the fast path publishes the warehouse file itself
        assert p.bi_snapshot.read_bytes() == p.warehouse.read_bytes()
