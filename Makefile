# dealerflow: two commands for a newcomer —  `make demo` (offline demo backfill) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Nothing here phones home.
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False

.PHONY: setup demo test dev manifest browser bench bench-quick clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11 is required; set PYTHON=...)"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# dagster-dbt reads dbt's manifest; outside `dagster dev` it must be parsed explicitly.
manifest: setup
	cd dbt && ../$(BIN)/dbt parse --profiles-dir . --project-dir . --quiet

demo: manifest
	$(BIN)/dealerflow demo

# The report's browser test needs Debian's chromium (headless); installed once if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium for the report's browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "error: chromium is missing and could not be installed (needs apt and root)"; exit 1; }; }

test: manifest browser
	$(BIN)/pytest -n 2 --dist loadgroup

dev: manifest
	DAGSTER_HOME=$${DEALERFLOW_HOME:-$(CURDIR)/.dealerflow}/dagster $(BIN)/python -c "from dagster_project.instance import prepare_dagster_home; from dagster_project.settings import paths; prepare_dagster_home(paths())"
	DAGSTER_HOME=$${DEALERFLOW_HOME:-$(CURDIR)/.dealerflow}/dagster $(BIN)/dagster dev -w workspace.yaml

# Benchmarks (report, never assert timings): append to BENCHMARKS.md. bench-quick fits CI (< 2 min on 2 cores);
# bench runs the 52-week realistic-scale backfill; BENCH_PROFILE=full for 208 weeks (~45 GB of JSON pages, 4-10 min
# to generate, ~50 min in all on 2 idle cores). BENCH_WORKDIR keeps the generated pages there and reuses them on the next run.
bench: manifest
	$(BIN)/python -m benchmarks.finra_weekly_bench --profile $${BENCH_PROFILE:-quick-full} $${BENCH_WORKDIR:+--workdir $$BENCH_WORKDIR}

bench-quick: manifest
	$(BIN)/python -m benchmarks.finra_weekly_bench --profile quick

clean:
	rm -rf .dealerflow dbt/target dbt/logs
