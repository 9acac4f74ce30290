"""The statistics behind the dbt Python models (CLV, forecast, experiments) and their I/O."""
