"""The raw-data contract, the Great Expectations suites and their validation, the service levels."""
