"""Settings from the environment: where things are, and the feature flags that pick the data source."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import SalesInsightsError

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}

# Variables a GA4 and a Shopify MCP connector need; the connectors themselves come with the MCP issue.
MCP_VARIABLES = ("SALES_INSIGHTS_MCP_GA4_COMMAND", "SALES_INSIGHTS_MCP_SHOPIFY_COMMAND")


def env_flag(name: str, default: bool, environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SalesInsightsError(f"environment variable {name}={raw!r}: expected true or false")


def default_project_dir() -> Path:
    """The dbt project: SALES_INSIGHTS_PROJECT_DIR, else the repository this package lives in."""
    configured = os.environ.get("SALES_INSIGHTS_PROJECT_DIR")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    warehouse: Path
    data_dir: Path | None
    use_mock_data: bool
    enable_mcp: bool
    missing_mcp_variables: tuple[str, ...]
    # Where `run` writes the generated full-size mock data set (not committed).
    mock_data_dir: Path
    # Where `export` (and `run`) write the CSV exports.
    export_dir: Path

    @property
    def profiles_dir(self) -> Path:
        return self.project_dir / "profiles"

    @property
    def seeds_dir(self) -> Path:
        return self.project_dir / "seeds" / "mock"

    @property
    def mcp_blocked(self) -> bool:
        """MCP is asked for but cannot deliver: the project runs on mocks until it can."""
        return self.enable_mcp and bool(self.missing_mcp_variables)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    project_dir = default_project_dir()
    warehouse = Path(env.get("SALES_INSIGHTS_WAREHOUSE") or project_dir / "warehouse" / "sales_insights.duckdb")
    data_dir = env.get("SALES_INSIGHTS_DATA_DIR")
    return Settings(
        project_dir=project_dir,
        warehouse=warehouse.resolve(),
        data_dir=Path(data_dir).resolve() if data_dir else None,
        use_mock_data=env_flag("USE_MOCK_DATA", True, env),
        enable_mcp=env_flag("ENABLE_MCP", False, env),
        missing_mcp_variables=tuple(v for v in MCP_VARIABLES if not env.get(v)),
        mock_data_dir=Path(env.get("SALES_INSIGHTS_MOCK_DIR") or project_dir / "data" / "mock").resolve(),
        export_dir=Path(env.get("SALES_INSIGHTS_EXPORT_DIR") or project_dir / "exports").resolve(),
    )


PROJECT_CONFIG = "sales_insights.toml"


@dataclass(frozen=True)
class ProjectConfig:
    export_marts: tuple[str, ...]
    keep_export_runs: int
    # mart -> the columns its CSV is sorted by (default: every column, left to right)
    export_order_by: dict[str, tuple[str, ...]]


def load_project_config(project_dir: Path) -> ProjectConfig:
    """The team's settings in sales_insights.toml at the project root."""
    path = project_dir / PROJECT_CONFIG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SalesInsightsError(f"{path} is missing: it lists the marts to export") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SalesInsightsError(f"{path}: not valid TOML: {exc}") from exc
    exports = data.get("exports", {})
    marts = exports.get("marts")
    if not isinstance(marts, list) or not marts or not all(isinstance(m, str) and m for m in marts):
        raise SalesInsightsError(f"{path}: [exports] marts must be a non-empty list of mart names")
    keep = exports.get("keep_runs", 14)
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise SalesInsightsError(f"{path}: [exports] keep_runs must be a whole number of at least 1, not {keep!r}")
    order_by = exports.get("order_by", {})
    if not isinstance(order_by, dict) or not all(
        isinstance(v, list) and v and all(isinstance(c, str) for c in v) for v in order_by.values()
    ):
        raise SalesInsightsError(f"{path}: [exports.order_by] must map a mart to a list of column names")
    return ProjectConfig(export_marts=tuple(dict.fromkeys(marts)), keep_export_runs=keep,
                         export_order_by={k: tuple(v) for k, v in order_by.items()})
