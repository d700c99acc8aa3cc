"""Pure source code: HTTP clients, replay readers and parsers. Never imports Dagster."""
