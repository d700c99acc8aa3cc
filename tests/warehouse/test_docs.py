"""docs/warehouse.md matches the dbt models, its example queries run, and `dbt docs generate` works offline."""

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from dagster_project.docs import mart_nodes, render
from dagster_project.resources import DBT_PROJECT_DIR, dbt_env

REPO = Path(__file__).resolve().parents[2]
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def test_warehouse_guide_documents_every_mart_and_column():
    guide = (REPO / "docs" / "warehouse.md").read_text()
    manifest = json.loads(MANIFEST.read_text())
    for node in mart_nodes(manifest):
        assert f"### `marts.{node['name']}`" in guide, f"docs/warehouse.md lacks marts.{node['name']}: run `dealerflow docs`"
        for column in node["columns"]:
            assert f"| `{column}` |" in guide, f"docs/warehouse.md lacks marts.{node['name']}.{column}: run `dealerflow docs`"
    documented = set(re.findall(r"### `marts\.(\w+)`", guide))
    assert documented == {n["name"] for n in mart_nodes(manifest)}, "docs/warehouse.md documents marts that no longer exist"


def test_guide_renders_types_from_the_built_warehouse(demo_home):
    text = render(MANIFEST, demo_home.bi_snapshot, (REPO / "docs" / "warehouse_examples.md").read_text())
    assert "| `share_quantity` | DECIMAL(38,6) |" in text


def test_example_queries_run_and_return_rows(demo_home):
    examples = (REPO / "docs" / "warehouse_examples.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", examples, flags=re.S)
    assert len(queries) >= 6
    with duckdb.connect(str(demo_home.bi_snapshot), read_only=True) as con:
        for sql in queries:
            assert con.execute(sql).fetchall(), f"example returned no rows:\n{sql}"


def test_dbt_docs_generate_works_offline(demo_home, tmp_path):
    env = {**dbt_env(demo_home), "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run([str(Path(sys.executable).parent / "dbt"), "docs", "generate", "--profiles-dir", ".",
                             "--project-dir", ".", "--target-path", str(tmp_path / "target")],
                            cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert any(key.endswith(".venue_share_weekly") for key in catalog["nodes"])
