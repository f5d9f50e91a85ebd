"""nasuite.suite: searching and comparing (benchmarks, clock, strategies, runner, CLI)."""
