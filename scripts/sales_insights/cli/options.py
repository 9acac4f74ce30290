"""The options several commands share, each declared once here."""

from __future__ import annotations

from pathlib import Path

import click

PATH = click.Path(path_type=Path)

# The published warehouse unless told otherwise. Not read from SALES_INSIGHTS_WAREHOUSE by click: a
# warehouse given here also puts the exports beside it (W_exports/), the environment's does not.
warehouse = click.option(
    "--warehouse", type=PATH, default=None,
    help="DuckDB file (default: SALES_INSIGHTS_WAREHOUSE or warehouse/sales_insights.duckdb).")
published_warehouse = click.option(
    "--warehouse", type=PATH, default=None,
    help="DuckDB file to publish (default: SALES_INSIGHTS_WAREHOUSE or warehouse/sales_insights.duckdb).")
data_dir = click.option(
    "--data-dir", type=PATH, default=None,
    help="Directory of raw-contract CSVs (default: SALES_INSIGHTS_DATA_DIR, else the mock data).")
EXPORT_DIR_HELP = ("Export directory (default: SALES_INSIGHTS_EXPORT_DIR, else exports/, or W_exports/ beside a "
                   "warehouse W given with --warehouse).")
export_dir = click.option("--export-dir", type=PATH, default=None, help=EXPORT_DIR_HELP)
full_refresh = click.option("--full-refresh", is_flag=True,
                            help="Rebuild everything instead of building incrementally.")
quiet = click.option("--quiet", is_flag=True, help="Do not show dbt's output.")
as_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
as_of = click.option("--now", "now", default=None, metavar="TIMESTAMP",
                     help="Evaluate as of this ISO time instead of now (UTC unless it has an offset).")
