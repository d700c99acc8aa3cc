"""`dealerflow import cboe-chain` on a delayed-quotes JSON file: underlying from the feed symbol, trade date from the
quote time unless --date is given, GEX derived; a non-trading --date is refused with the partition named."""

from datetime import date, time

from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.lake import Lake
from dagster_project.landing import options as lo
from dagster_project.synthetic.options import chain_json_bytes, generate_chain

D = date(2026, 11, 17)


def test_json_chain_imports_with_its_own_underlying_and_date(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path / "home"))
    file = tmp_path / "_QQQ.json"
    file.write_bytes(chain_json_bytes(*generate_chain("QQQ", D, as_of=time(16, 30))))
    result = CliRunner().invoke(main, ["import", "cboe-chain", str(file)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2026-11-17 QQQ: ")
    lake = Lake(tmp_path / "home" / "lake")
    chain = lake.latest(lo.CHAIN_DATASET, lo.lake_partition(D, "QQQ"))
    assert chain.manifest["facts"]["source_format"] == "cboe_json" and (chain.path / "payload" / "_QQQ.json").is_file()
    gex = lake.latest(lo.GEX_DATASET, lo.lake_partition(D, "QQQ"))
    assert gex.manifest["facts"]["chain_version_id"] == chain.version_id and gex.rows == chain.rows

    refused = CliRunner().invoke(main, ["import", "cboe-chain", str(file), "--date", "2026-11-21"])
    assert refused.exit_code != 0 and "2026-11-21 QQQ: 2026-11-21 is not a trading day" in refused.output
