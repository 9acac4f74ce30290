"""Tools for developing and measuring the project: the mock store, the benchmark, Spark parity."""
