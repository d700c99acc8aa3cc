"""Dagster assets: each module wires one source's pure fetch/parse/land code, or the dbt project."""
