"""The package stays navigable: no function of scripts/sales_insights runs over 60 lines (the long ones were
split where a name for the part exists), and every module says what it is for."""

from __future__ import annotations

import ast

from conftest import PROJECT_DIR

PACKAGE = PROJECT_DIR / "scripts" / "sales_insights"
MAX_FUNCTION_LINES = 60


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these where a name for the part exists:\n" + "\n".join(long)


def test_every_module_and_package_has_a_docstring():
    missing = [str(p.relative_to(PROJECT_DIR)) for p in _modules()
               if p.name != "__main__.py" and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, missing
