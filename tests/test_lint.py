"""The SQL lint of `make lint` (sqlfluff, configured in .sqlfluff): it catches a break of the SQL style, and
the paths it is given cover every SQL file of the dbt project."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlfluff.core import FluffConfig
from sqlfluff.core.linter.discovery import paths_from_path

PROJECT_DIR = Path(__file__).resolve().parents[1]

# A model in the project's style that uses what the lint must render without dbt: ref, var, a project
# macro behind adapter.dispatch, the project's override of dbt.safe_cast and a dbt type. Two faults are
# planted: an upper-case keyword (line 6) and a column indented 6 spaces instead of 8 (line 8).
PROBE_MODEL = """\
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

final as (
    SELECT
        order_id,
      {{ to_reporting_date('created_at') }} as order_date,
        {{ dbt.safe_cast('order_id', dbt.type_string()) }} as order_key,
        '{{ var("shop_currency") }}' as shop_currency
    from orders
)

select * from final
"""


def _makefile_sql_paths() -> list[str]:
    """The paths `make lint` hands to sqlfluff."""
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/sqlfluff lint $(SQL_PATHS)" in makefile
    match = re.search(r"^SQL_PATHS\s*:?=\s*(.+)$", makefile, re.MULTILINE)
    assert match, "no SQL_PATHS in the Makefile"
    return match.group(1).split()


def test_lint_names_the_rules_a_model_breaks():
    result = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "-", "--stdin-filename", "models/probe.sql", "--format", "json"],
        input=PROBE_MODEL,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
    )

    assert result.returncode == 1, result.stderr
    [linted] = json.loads(result.stdout)
    found = sorted((v["code"], v["start_line_no"]) for v in linted["violations"])
    # Exactly the two planted faults: the templating (stubs of dbt, the project's macros) rendered the rest,
    # and the model's own style passes.
    assert found == [("CP01", 6), ("LT02", 8)], linted["violations"]


# sqlfluff reads .sqlfluffignore through a pathspec pattern class that pathspec has deprecated.
@pytest.mark.filterwarnings("ignore:GitIgnorePattern:DeprecationWarning")
def test_lint_paths_cover_every_sql_file():
    extensions = tuple(FluffConfig.from_path(str(PROJECT_DIR)).get("sql_file_exts").split(","))
    linted = set()
    for path in _makefile_sql_paths():
        linted.update(
            Path(file).resolve()
            for file in paths_from_path(
                str(PROJECT_DIR / path), working_path=str(PROJECT_DIR), target_file_exts=extensions
            )
        )
    project_sql = {
        path.resolve() for folder in ("models", "macros", "tests") for path in (PROJECT_DIR / folder).rglob("*.sql")
    }

    assert {path.parent.relative_to(PROJECT_DIR).parts[0] for path in project_sql} == {"models", "macros", "tests"}
    assert PROJECT_DIR / "macros" / "tests" / "unique_appended.sql" in project_sql
    assert sorted(str(path.relative_to(PROJECT_DIR)) for path in project_sql - linted) == []
