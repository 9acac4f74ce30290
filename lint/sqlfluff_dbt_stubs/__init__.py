"""The parts of dbt's Jinja context that sqlfluff's jinja templater lacks, stubbed for linting only.

sqlfluff renders the project's SQL without dbt: .sqlfluff points `library_path` here, and every name
of this module becomes a Jinja global (so the helpers and imports are underscored). sqlfluff's own
dbt builtins cover ref, source, config, this, is_incremental and return, and `load_macros_from_path`
loads the project's macros. This adds what the project calls on top of those: adapter.dispatch, dbt's
cross-database macros (dbt.*), target, env_var, and var with the values of dbt_project.yml. They
render what dbt-duckdb renders, in lower case, so the linted SQL is close to what dbt builds.
Nothing here runs in dbt. Rendering is deterministic: env_var gives its default, whatever the
environment.
"""

from pathlib import Path as _Path
from types import SimpleNamespace as _Namespace

import yaml as _yaml
from jinja2 import pass_context as _pass_context

_PROJECT_VARS = (
    _yaml.safe_load((_Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text(encoding="utf-8"))
    .get("vars")
    or {}
)
_NO_DEFAULT = object()
# The project is built on DuckDB only: dispatch takes the first of these implementations it finds.
_DISPATCH_PREFIXES = ("duckdb__", "default__")


def _project_macro(context, macro_name):
    """The project's own implementation of a dispatched macro (dbt looks in the root project first)."""
    for prefix in _DISPATCH_PREFIXES:
        macro = context.get(prefix + macro_name)
        if macro is not None:
            return macro
    return None


@_pass_context
def _dispatch(context, macro_name, macro_namespace=None):
    macro = _project_macro(context, macro_name)
    if macro is None:
        raise LookupError(f"adapter.dispatch: no duckdb__ or default__ {macro_name} in macros/")
    return macro


class _CrossDatabaseMacros:
    """dbt's cross-database macros the project uses, as dbt-duckdb renders them (types in lower case).

    A macro the project does not call is deliberately missing: add it here when a model needs it.
    """

    @staticmethod
    def type_string():
        return "text"

    @staticmethod
    def type_bigint():
        return "bigint"

    @staticmethod
    def type_int():
        return "integer"

    @staticmethod
    def type_float():
        return "float"

    @staticmethod
    def type_boolean():
        return "boolean"

    @staticmethod
    def safe_cast(field, type):
        return f"cast({field} as {type})"

    @staticmethod
    def concat(fields):
        return " || ".join(str(field) for field in fields)

    @staticmethod
    def hash(field):
        return f"md5(cast({field} as text))"

    @staticmethod
    def date_trunc(datepart, date):
        return f"date_trunc('{datepart}', {date})"

    @staticmethod
    def datediff(first_date, second_date, datepart):
        return f"date_diff('{datepart}', cast({first_date} as timestamp), cast({second_date} as timestamp))"

    @staticmethod
    def dateadd(datepart, interval, from_date_or_timestamp):
        return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"

    @classmethod
    def last_day(cls, date, datepart):
        month_start = cls.date_trunc(datepart, date)
        return f"cast({cls.dateadd('day', '-1', cls.dateadd(datepart, '1', month_start))} as date)"

    @staticmethod
    def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
        if limit_num is not None:
            raise NotImplementedError("dbt.listagg with limit_num: add it to lint/sqlfluff_dbt_stubs")
        return f"string_agg({measure}, {delimiter_text} {order_by_clause or ''})"


def _dbt_macro(name):
    """dbt.<name>: the project's duckdb__/default__<name> when it overrides it (as dbt.safe_cast is), else dbt's."""
    builtin = getattr(_CrossDatabaseMacros, name)

    @_pass_context
    def macro(context, *args, **kwargs):
        override = _project_macro(context, name)
        return (override or builtin)(*args, **kwargs)

    return macro


dbt = _Namespace(**{name: _dbt_macro(name) for name in vars(_CrossDatabaseMacros) if not name.startswith("_")})
adapter = _Namespace(dispatch=_dispatch)
target = _Namespace(name="dev", type="duckdb", database="sales_insights", schema="main", threads=2)


def var(name, default=_NO_DEFAULT):
    """dbt's var(): the value in dbt_project.yml, else the default; a var with neither is an error, as in dbt."""
    if name in _PROJECT_VARS:
        return _PROJECT_VARS[name]
    if default is _NO_DEFAULT:
        raise KeyError(f"var {name!r} is not in dbt_project.yml and has no default")
    return default


def env_var(name, default=None):
    """dbt's env_var(), always its default, so the lint does not depend on the environment."""
    if default is None:
        raise KeyError(f"env_var {name!r} has no default: the lint cannot render it")
    return default


# dbt's `modules` (the Python modules it exposes to Jinja) and `run_started_at`, fixed so that rendering
# stays deterministic: the plausible-window macros compute with them.
import datetime as _datetime  # noqa: E402

import pytz as _pytz  # noqa: E402

modules = _Namespace(datetime=_datetime, pytz=_pytz)
run_started_at = _datetime.datetime(2026, 1, 1, tzinfo=_pytz.utc)
