"""Fetch → parse → land: turn one source partition into immutable lake versions. Pure (no Dagster)."""
