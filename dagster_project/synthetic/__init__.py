"""Synthetic sources: deterministic upstream-format files at any scale, for demos, tests and benchmarks."""
