"""dbt on Apache Spark: the `spark` target of profiles/profiles.yml (dbt-spark's session method, a Spark
session inside the dbt process), installed by the optional extra `pip install -e '.[spark]'`.

dbt-spark runs SQL models in the session, but it can hand Python models only to Databricks (its
`all_purpose_cluster` and `job_cluster` submission methods). `sales-insights dbt ARGS` runs dbt in this
process with one more submission method, `session`, the default for a session target: the model's
compiled code (dbt-spark's own, which writes the returned DataFrame as the model's table) is executed with
the session dbt's SQL runs in. On Databricks the same models run as dbt-spark or dbt-databricks submit them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import yaml

from sales_insights.config import load_shop_config
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.ga4_export import EXPORT_DIR
from sales_insights.pipeline.load import RAW_SCHEMA, LoadReport, ga4_layout, load_data_dir
from sales_insights.pipeline.raw_lines import OFFSETS_TABLE
from sales_insights.pipeline.shopify_layouts import LOCATIONS_TABLE, ensure_locations_table
from sales_insights.sql import sql_identifier

SESSION_METHOD = "session"
PROFILE = "sales_insights"


def spark_session(settings: dict[str, str]):
    """The process's Spark session, made as dbt-spark's session cursors make it (Hive support and the
    target's server_side_parameters) when none is running yet."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SessionPythonJobHelper:
    """Runs a dbt Python model's compiled code in the process's Spark session (dbt's PythonJobHelper
    interface: built with the parsed model and the credentials, then `submit`)."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.name = parsed_model.get("alias") or parsed_model.get("name", "python model")
        self.settings = dict(getattr(credentials, "server_side_parameters", None) or {})

    def submit(self, compiled_code: str) -> None:
        spark = spark_session(self.settings)
        code = compile(compiled_code, f"<dbt python model {self.name}>", "exec")
        exec(code, {"__name__": f"dbt_model_{self.name}", "spark": spark})  # noqa: S102 (dbt's compiled model)


def install_session_python_models() -> None:
    """Give dbt-spark the `session` submission method, the default when the target's method is session.
    Idempotent; does nothing when dbt-spark is not installed."""
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:
        return
    if getattr(SparkAdapter, "_sales_insights_session", False):
        return
    helpers = SparkAdapter.python_submission_helpers.fget
    default_method = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self):
        return {**helpers(self), SESSION_METHOD: SessionPythonJobHelper}

    def default_python_submission_method(self):
        if getattr(self.config.credentials, "method", None) == SESSION_METHOD:
            return SESSION_METHOD
        return default_method(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    SparkAdapter._sales_insights_session = True


def spark_dir(project_dir: Path) -> Path:
    """Where the local Spark session keeps its tables and metastore (SALES_INSIGHTS_SPARK_DIR, by default
    target/spark under the project)."""
    return Path(os.environ.get("SALES_INSIGHTS_SPARK_DIR") or project_dir / "target" / "spark").absolute()


def target_of(args: list[str]) -> str | None:
    """The --target (or -t) a dbt command line names, if any."""
    for i, arg in enumerate(args):
        if arg in ("--target", "-t") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return None


def session_target_settings(profiles_dir: Path, target: str) -> dict[str, str]:
    """The Spark settings (server_side_parameters) of a session target of profiles.yml, with its env_var()
    calls rendered as dbt renders them; an error when the target is not a Spark session."""
    profiles = yaml.safe_load((profiles_dir / "profiles.yml").read_text())
    output = profiles.get(PROFILE, {}).get("outputs", {}).get(target)
    if not output or output.get("type") != "spark" or output.get("method") != SESSION_METHOD:
        raise SalesInsightsError(
            f"{profiles_dir / 'profiles.yml'}: target {target!r} is not a Spark session target (type spark, "
            "method session); raw data for the DuckDB target is loaded by `sales-insights build --data-dir`"
        )

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise SalesInsightsError(f"profiles.yml: environment variable {name} is not set")
        return value

    render = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {str(key): render.from_string(str(value)).render(env_var=env_var)
            for key, value in (output.get("server_side_parameters") or {}).items()}


def load_data_dir_to_spark(data_dir: Path, settings: dict[str, str]) -> LoadReport:
    """Load a directory of raw-contract CSVs into the Spark session's `raw` schema. The files go through the
    DuckDB loader first (sales_insights.pipeline.load: every check, the same errors naming file, column and lines,
    every value as text), into a scratch file; each table is then written to Spark as Parquet with the
    CSV record line of each row as _source_line, which Spark's source_line_number() reads, and the
    loader's meta.raw_line_offsets and meta.raw_row_locations with them (where rows start below their
    record line, and where the rows of a Shopify layout were read, for stg_rejected_rows)."""
    if ga4_layout(data_dir) == "export":
        raise SalesInsightsError(
            f"{data_dir}: GA4's BigQuery export ({EXPORT_DIR}/) is built on DuckDB only (sales-insights build); "
            "for Spark, give GA4's events as raw_ga4_events.csv"
        )
    spark = spark_session(settings)
    with tempfile.TemporaryDirectory(prefix="sales-insights-load-") as scratch:
        con = duckdb.connect(str(Path(scratch) / "loaded.duckdb"))
        try:
            report = load_data_dir(con, data_dir)
            spark.sql(f"create database if not exists {RAW_SCHEMA}")
            for table in report.row_counts:
                # Loaded whole into a new file, so the row id is the order of the file's rows.
                rows = con.execute(f"select *, rowid + 2 as _source_line from {RAW_SCHEMA}.{sql_identifier(table)}")
                frame = spark.createDataFrame(rows.to_arrow_table())
                frame.write.mode("overwrite").format("parquet").saveAsTable(f"{RAW_SCHEMA}.{table}")
            spark.sql("create database if not exists meta")
            ensure_locations_table(con)
            for record in (OFFSETS_TABLE, LOCATIONS_TABLE):
                rows = spark.createDataFrame(con.execute(f"select * from {record}").to_arrow_table())
                rows.write.mode("overwrite").format("parquet").saveAsTable(record)
        finally:
            con.close()
    return report


def with_vars(flags: list[str], defaults: dict[str, object]) -> list[str]:
    """`flags` with `defaults` added to its --vars (one --vars option; a var the flags set themselves wins)."""
    given: dict = {}
    rest: list[str] = []
    i = 0
    while i < len(flags):
        flag = flags[i]
        if flag == "--vars" or flag.startswith("--vars="):
            inline = flag.startswith("--vars=")
            text = flag.partition("=")[2] if inline else (flags[i + 1] if i + 1 < len(flags) else "")
            i += 1 if inline else 2
            try:
                parsed = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                raise SalesInsightsError(f"--vars {text!r}: not a YAML or JSON mapping ({exc})") from exc
            if not isinstance(parsed, dict):
                raise SalesInsightsError(f"--vars {text!r}: not a mapping of var names to values")
            given.update(parsed)
            continue
        rest.append(flag)
        i += 1
    return [*rest, "--vars", json.dumps({**defaults, **given})]


def run_dbt_in_process(args: list[str], project_dir: Path, profiles_dir: Path, data_dir: Path | None = None) -> int:
    """Run one dbt command in this process (so Python models on a Spark session target run in dbt's own
    session); returns dbt's exit code: 0 success, 1 a node failed, 2 dbt could not run. With `data_dir`,
    the command's target must be a Spark session: the CSVs are loaded into its raw schema first and the
    models read them (USE_MOCK_DATA=false, and the var ga4_grain when GA4 comes at report grain)."""
    install_session_python_models()
    from dbt.cli.main import cli, dbtRunner

    os.environ.setdefault("SALES_INSIGHTS_SPARK_DIR", str(spark_dir(project_dir)))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    flags = list(args)
    if data_dir is not None:
        target = target_of(flags)
        if target is None:
            raise SalesInsightsError("--data-dir loads into a Spark session target: name it, e.g. --target spark")
        settings = session_target_settings(profiles_dir, target)
        cwd = Path.cwd()
        os.chdir(project_dir)  # the profile's paths are relative to the project, as when dbt runs
        try:
            report = load_data_dir_to_spark(Path(data_dir).absolute(), settings)
        finally:
            os.chdir(cwd)
        os.environ["USE_MOCK_DATA"] = "false"
        if report.ga4_grain != "events":
            if any(f == "--vars" or f.startswith("--vars=") for f in flags):
                raise SalesInsightsError(f"{data_dir} holds GA4 at report grain: add ga4_grain: report to --vars")
            flags += ["--vars", "{ga4_grain: report}"]
    if any(f in cli.commands for f in flags):  # not for `dbt --version`, which takes no vars
        flags = with_vars(flags, load_shop_config(project_dir).dbt_vars())
    if "--project-dir" not in flags:
        flags += ["--project-dir", str(project_dir)]
    if "--profiles-dir" not in flags:
        flags += ["--profiles-dir", str(profiles_dir)]
    cwd = Path.cwd()
    os.chdir(project_dir)
    try:
        result = dbtRunner().invoke(flags)
    finally:
        os.chdir(cwd)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise SalesInsightsError(f"dbt {' '.join(args)} could not run: {result.exception}")
    return 0 if result.success else 1
