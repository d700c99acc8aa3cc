"""Generate ``docs/warehouse.md`` from the dbt manifest (descriptions, grains) and the built warehouse (types).

The marts' documentation lives in their dbt YAML; this renders it for BI users together with the
example queries below, so the guide cannot drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

INTRO = """\
# The dealerflow warehouse — a guide for BI users

Open the **read-only snapshot** `<DEALERFLOW_HOME>/warehouse/bi/dealerflow.duckdb` (default
`.dealerflow/warehouse/bi/dealerflow.duckdb`), never the pipeline's own file: the snapshot is replaced atomically
after every successful build, so a query never waits for a build and never sees a half-built mart. It is written in
DuckDB storage format v1.4: Metabase, Superset, Evidence, DBeaver, notebooks and the DuckDB CLI need a DuckDB
≥ 1.4 driver. Example: `duckdb -readonly .dealerflow/warehouse/bi/dealerflow.duckdb`.

Schemas: `marts` (what to query), `intermediate` and `staging` (lineage, every landed version), all built by dbt
from the immutable raw lake. Quantities (shares, contracts, trades) and money are exact `DECIMAL`/`BIGINT`;
shares and ratios are `DOUBLE` fractions (0.25 = 25 %) unless a column says otherwise.

Caveats that apply everywhere:

* FINRA OTC transparency is **delayed** (Tier 1: 2 weeks; Tier 2 and OTC equities: 4 weeks; monthly data:
  1 month) and **non-directional** (it says where volume traded, not who bought or sold).
* Combined (all-tier) FINRA figures are **provisional** until every tier of the week is published
  (`is_complete`).
* GEX follows a stated convention (dealers long calls, short puts; see the `conventions` columns); it is a
  model of dealer positioning, not an observation.
"""


def _grain(node: dict, manifest: dict) -> list[str] | None:
    for test_id in manifest["child_map"].get(node["unique_id"], []):
        test = manifest["nodes"].get(test_id, {})
        meta = test.get("test_metadata") or {}
        if meta.get("name") == "unique_combination_of_columns":
            return list(meta.get("kwargs", {}).get("combination_of_columns", []))
        if meta.get("name") == "unique" and meta.get("kwargs", {}).get("column_name"):
            return [meta["kwargs"]["column_name"]]
    return None


def _types(snapshot: Path | None, name: str) -> dict[str, str]:
    if snapshot is None or not snapshot.is_file():
        return {}
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute("select column_name, data_type from information_schema.columns "
                           "where table_schema = 'marts' and table_name = ? order by ordinal_position", [name]).fetchall()
    return dict(rows)


def mart_nodes(manifest: dict) -> list[dict]:
    nodes = [n for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and len(n["fqn"]) > 2 and n["fqn"][1] == "marts"]
    return sorted(nodes, key=lambda n: ((n.get("tags") or ["~"])[0], n["name"]))


def render(manifest_path: Path, snapshot: Path | None, examples: str) -> str:
    manifest = json.loads(Path(manifest_path).read_text())
    parts = [INTRO, "## Marts\n"]
    for node in mart_nodes(manifest):
        name = node["name"]
        grain = _grain(node, manifest)
        types = _types(snapshot, name)
        parts.append(f"### `marts.{name}`\n")
        parts.append(" ".join(node.get("description", "").split()) + "\n")
        parts.append(f"Grain: one row per {' × '.join(f'`{c}`' for c in grain)}.\n" if grain else "")
        parts.append(f"Source group: `{(node.get('tags') or ['-'])[0]}`.\n")
        parts.append("| column | type | meaning |\n|---|---|---|")
        columns = node.get("columns", {})
        ordered = list(types) + [c for c in columns if c not in types]
        for col in ordered:
            meta = columns.get(col, {})
            description = " ".join(meta.get("description", "").split()).replace("|", "\\|")
            parts.append(f"| `{col}` | {types.get(col, meta.get('data_type') or '')} | {description} |")
        parts.append("")
    parts.append(examples.strip() + "\n")
    return "\n".join(parts)


def write(manifest_path: Path, snapshot: Path | None, examples_path: Path, out: Path) -> Path:
    out.write_text(render(manifest_path, snapshot, examples_path.read_text()))
    return out
