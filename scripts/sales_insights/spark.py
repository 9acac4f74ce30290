"""dbt on Apache Spark: the `spark` target of profiles/profiles.yml (dbt-spark's session method, a Spark
session inside the dbt process), installed by the optional extra `pip install -e '.[spark]'`.

dbt-spark runs SQL models in the session, but it can hand Python models only to Databricks (its
`all_purpose_cluster` and `job_cluster` submission methods). `sales-insights dbt ARGS` runs dbt in this
process with one more submission method, `session`, the default for a session target: the model's
compiled code (dbt-spark's own, which writes the returned DataFrame as the model's table) is executed with
the session dbt's SQL runs in. On Databricks the same models run as dbt-spark or dbt-databricks submit them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import SalesInsightsError

SESSION_METHOD = "session"


class SessionPythonJobHelper:
    """Runs a dbt Python model's compiled code in the process's Spark session (dbt's PythonJobHelper
    interface: built with the parsed model and the credentials, then `submit`)."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.name = parsed_model.get("alias") or parsed_model.get("name", "python model")

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
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


def run_dbt_in_process(args: list[str], project_dir: Path, profiles_dir: Path) -> int:
    """Run one dbt command in this process (so Python models on a Spark session target run in dbt's own
    session); returns dbt's exit code: 0 success, 1 a node failed, 2 dbt could not run."""
    install_session_python_models()
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("SALES_INSIGHTS_SPARK_DIR", str(spark_dir(project_dir)))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    flags = list(args)
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
