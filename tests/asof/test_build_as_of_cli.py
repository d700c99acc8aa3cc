"""`dealerflow build --as-of` refuses dates it cannot mean, before touching dbt or the lake."""

from click.testing import CliRunner

from dagster_project.cli import main


def test_as_of_must_be_a_date(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["build", "--as-of", "2025-13-01"])
    assert result.exit_code != 0 and "--as-of '2025-13-01' is not a YYYY-MM-DD date" in result.output


def test_as_of_cannot_be_in_the_future(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["build", "--as-of", "2999-01-01"])
    assert result.exit_code != 0 and "is in the future" in result.output


def test_as_of_on_an_empty_lake_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["build", "--as-of", "2025-10-01"])
    assert result.exit_code != 0 and "the lake holds no data yet" in result.output
    assert not (tmp_path / "warehouse" / "asof").exists()
