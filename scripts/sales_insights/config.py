"""Settings from the environment: where things are, and the feature flags that pick the data source."""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sales_insights.errors import SalesInsightsError

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}

# Variables a GA4 and a Shopify MCP connector need; the connectors themselves come with the MCP issue.
# Each connector's MCP server: a stdio command or a streamable HTTP URL; GA4 also needs the property.
MCP_CONNECTORS = ("ga4", "shopify")
GA4_PROPERTY_VARIABLE = "SALES_INSIGHTS_GA4_PROPERTY_ID"


def mcp_server_variables(connector: str) -> tuple[str, str]:
    """The variables that name a connector's MCP server: a stdio command, or a streamable HTTP URL."""
    prefix = f"SALES_INSIGHTS_MCP_{connector.upper()}_"
    return prefix + "COMMAND", prefix + "URL"


def mcp_token_variable(connector: str) -> str:
    """The variable whose value is sent as a bearer token to the connector's HTTP server."""
    return f"SALES_INSIGHTS_MCP_{connector.upper()}_TOKEN"


def missing_mcp_variables(env) -> tuple[str, ...]:
    """What the MCP connectors still need, e.g. ("SALES_INSIGHTS_MCP_GA4_COMMAND or SALES_INSIGHTS_MCP_GA4_URL",)."""
    missing = []
    for connector in MCP_CONNECTORS:
        command, url = mcp_server_variables(connector)
        if not env.get(command) and not env.get(url):
            missing.append(f"{command} or {url}")
    if not env.get(GA4_PROPERTY_VARIABLE):
        missing.append(GA4_PROPERTY_VARIABLE)
    return tuple(missing)


# DuckDB's memory limit for the heavy work (dbt's profile, the generator, the benchmark's raw SQL); above
# it, large sorts and joins spill to a temp directory instead of failing.
DEFAULT_MEMORY_LIMIT = "3GB"


def duckdb_memory_limit() -> str:
    return os.environ.get("SALES_INSIGHTS_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


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
    # SALES_INSIGHTS_EXPORT_DIR: where `export` (and `run`) write the CSV exports, whatever the warehouse.
    export_dir_override: Path | None
    # Where MCP extracts land (SALES_INSIGHTS_EXTRACT_DIR).
    extract_dir: Path
    # SALES_INSIGHTS_DATA_DOCS_DIR: where the Great Expectations Data Docs go (default: beside the warehouse).
    data_docs_override: Path | None = None

    @property
    def profiles_dir(self) -> Path:
        return self.project_dir / "profiles"

    @property
    def seeds_dir(self) -> Path:
        return self.project_dir / "seeds" / "mock"

    def export_dir_for(self, warehouse: Path | None = None) -> Path:
        """Where the CSV exports (and the report) of `warehouse` go: SALES_INSIGHTS_EXPORT_DIR when set; the
        project's exports/ for the warehouse the commands use by default (SALES_INSIGHTS_WAREHOUSE, else
        warehouse/sales_insights.duckdb); for another one, given with --warehouse, a folder beside it named
        after it (/data/shop.duckdb -> /data/shop_exports), so two warehouses never share one `latest`."""
        if self.export_dir_override:
            return self.export_dir_override
        if warehouse is None or warehouse.resolve() == self.warehouse:
            return self.project_dir / "exports"
        path = warehouse.resolve()
        return path.with_name(f"{path.stem}_exports")

    @property
    def export_dir(self) -> Path:
        """The exports of the warehouse the commands use by default."""
        return self.export_dir_for()

    def data_docs_dir(self, warehouse: Path | None = None) -> Path:
        """The Data Docs of the contract checks of `warehouse`: SALES_INSIGHTS_DATA_DOCS_DIR, else
        data_docs/ beside the warehouse file."""
        return self.data_docs_override or (warehouse or self.warehouse).resolve().parent / "data_docs"

    @property
    def mcp_unconfigured(self) -> bool:
        """MCP is asked for but a connector's variable is missing."""
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
        missing_mcp_variables=missing_mcp_variables(env),
        mock_data_dir=Path(env.get("SALES_INSIGHTS_MOCK_DIR") or project_dir / "data" / "mock").resolve(),
        export_dir_override=Path(env["SALES_INSIGHTS_EXPORT_DIR"]).resolve()
        if env.get("SALES_INSIGHTS_EXPORT_DIR") else None,
        extract_dir=Path(env.get("SALES_INSIGHTS_EXTRACT_DIR") or project_dir / "data" / "extracts").resolve(),
        data_docs_override=Path(env["SALES_INSIGHTS_DATA_DOCS_DIR"]).resolve()
        if env.get("SALES_INSIGHTS_DATA_DOCS_DIR") else None,
    )


PROJECT_CONFIG = "sales_insights.toml"


@dataclass(frozen=True)
class ContractsConfig:
    """How many rows of a raw table may be lost (rejected by staging for any reason but being an exact copy)
    before validation fails: a share of the table's rows, rounded down, however small the table; a store of
    8 orders may lose none at the default 1%. The rows a mock generator broke on purpose (its planted
    losses) are allowed on top. The committed seeds, a demo store with bad rows planted on purpose, have
    their own share. (The rows are kept in staging.stg_rejected_rows either way.)"""

    max_bad_row_share: float = 0.01
    seeds_max_bad_row_share: float = 0.1

    def tolerated(self, rows: int, data_source: str = "directory", planted: int = 0) -> int:
        """The rows of a raw table of `rows` rows that may be lost, `planted` of them broken on purpose."""
        share = self.seeds_max_bad_row_share if data_source == "seeds" else self.max_bad_row_share
        return math.floor(rows * share) + planted


@dataclass(frozen=True)
class SloConfig:
    """Service level objectives of the sales analytics outputs ([slo] in sales_insights.toml)."""

    ga4_max_age_hours: float = 36.0
    shopify_max_age_hours: float = 36.0
    build_max_minutes: float = 30.0
    contract_min_pass_rate: float = 1.0
    export_deadline: str = "07:00"
    timezone: str = "UTC"
    tracking_coverage_floor: float = 0.85
    tracking_coverage_days: int = 7


@dataclass(frozen=True)
class ProjectConfig:
    export_marts: tuple[str, ...]
    keep_export_runs: int
    # mart -> the columns its CSV is sorted by (default: every column, left to right)
    export_order_by: dict[str, tuple[str, ...]]
    contracts: ContractsConfig = ContractsConfig()
    # Text cells a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) are exported
    # with a leading single quote; off only for machine-only consumers of the CSVs.
    neutralize_export_formulas: bool = True
    slo: SloConfig = SloConfig()


def _number(path: Path, section: str, key: str, value, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low or (
            high is not None and value > high):
        limits = f"in [{low:g}, {high:g}]" if high is not None else f"of at least {low:g}"
        raise SalesInsightsError(f"{path}: [{section}] {key} must be a number {limits}, not {value!r}")
    return float(value)


def _whole_number(path: Path, section: str, key: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SalesInsightsError(f"{path}: [{section}] {key} must be a whole number of at least {low}, not {value!r}")
    return value


def _slo_config(path: Path, data: dict) -> SloConfig:
    slo = data.get("slo", {})
    if not isinstance(slo, dict):
        raise SalesInsightsError(f"{path}: [slo] must be a table of objectives, not {slo!r}")
    default = SloConfig()
    unknown = set(slo) - set(SloConfig.__dataclass_fields__)
    if unknown:
        raise SalesInsightsError(f"{path}: [slo] has unknown keys {sorted(unknown)}; known: "
                                 f"{sorted(SloConfig.__dataclass_fields__)}")

    def number(key: str, low: float, high: float | None = None) -> float:
        return _number(path, "slo", key, slo.get(key, getattr(default, key)), low, high)

    deadline = slo.get("export_deadline", default.export_deadline)
    if not isinstance(deadline, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", deadline):
        raise SalesInsightsError(f"{path}: [slo] export_deadline must be a time of day as HH:MM, not {deadline!r}")
    timezone = slo.get("timezone", default.timezone)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SalesInsightsError(f"{path}: [slo] timezone must be an IANA time zone name, not {timezone!r}") from exc
    days = _whole_number(path, "slo", "tracking_coverage_days",
                         slo.get("tracking_coverage_days", default.tracking_coverage_days), 1)
    return SloConfig(
        ga4_max_age_hours=number("ga4_max_age_hours", 0),
        shopify_max_age_hours=number("shopify_max_age_hours", 0),
        build_max_minutes=number("build_max_minutes", 0),
        contract_min_pass_rate=number("contract_min_pass_rate", 0, 1),
        export_deadline=deadline,
        timezone=str(timezone),
        tracking_coverage_floor=number("tracking_coverage_floor", 0, 1),
        tracking_coverage_days=days,
    )


# Overrides [contracts] max_bad_row_share for one run: a team that has looked at a bad day's rejects and
# decided to publish it anyway says so explicitly, without editing the committed settings.
SHARE_ENV = "SALES_INSIGHTS_MAX_BAD_ROW_SHARE"


def _share(where: str, key: str, share) -> float:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise SalesInsightsError(f"{where}: {key} must be a number in [0, 1), not {share!r}")
    return float(share)


def _contracts_config(path: Path, data: dict) -> ContractsConfig:
    contracts = data.get("contracts", {})
    default = ContractsConfig()
    unknown = set(contracts) - set(ContractsConfig.__dataclass_fields__)
    if unknown:
        removed = (" (max_bad_rows is gone: a table may lose max_bad_row_share of its rows, however small "
                   "it is)") if "max_bad_rows" in unknown else ""
        raise SalesInsightsError(f"{path}: [contracts] has unknown keys {sorted(unknown)}; known: "
                                 f"{sorted(ContractsConfig.__dataclass_fields__)}{removed}")
    share = _share(str(path), "[contracts] max_bad_row_share",
                   contracts.get("max_bad_row_share", default.max_bad_row_share))
    override = os.environ.get(SHARE_ENV)
    if override is not None:
        try:
            share = _share(f"environment variable {SHARE_ENV}", "it", float(override))
        except ValueError as exc:
            raise SalesInsightsError(f"environment variable {SHARE_ENV}={override!r}: expected a number in "
                                     f"[0, 1)") from exc
    seeds = _share(str(path), "[contracts] seeds_max_bad_row_share",
                   contracts.get("seeds_max_bad_row_share", default.seeds_max_bad_row_share))
    return ContractsConfig(share, seeds)


def load_project_config(project_dir: Path) -> ProjectConfig:
    """The team's settings in sales_insights.toml at the project root."""
    path = project_dir / PROJECT_CONFIG
    data = _read_toml(path)
    exports = data.get("exports", {})
    marts = exports.get("marts")
    if not isinstance(marts, list) or not marts or not all(isinstance(m, str) and m for m in marts):
        raise SalesInsightsError(f"{path}: [exports] marts must be a non-empty list of mart names")
    keep = _whole_number(path, "exports", "keep_runs", exports.get("keep_runs", 14), 1)
    order_by = exports.get("order_by", {})
    if not isinstance(order_by, dict) or not all(
        isinstance(v, list) and v and all(isinstance(c, str) for c in v) for v in order_by.values()
    ):
        raise SalesInsightsError(f"{path}: [exports.order_by] must map a mart to a list of column names")
    neutralize = exports.get("neutralize_formulas", True)
    if not isinstance(neutralize, bool):
        raise SalesInsightsError(f"{path}: [exports] neutralize_formulas must be true or false, not {neutralize!r}")
    return ProjectConfig(export_marts=tuple(dict.fromkeys(marts)), keep_export_runs=keep,
                         export_order_by={k: tuple(v) for k, v in order_by.items()},
                         neutralize_export_formulas=neutralize,
                         contracts=_contracts_config(path, data), slo=_slo_config(path, data))


# The shop's own settings: [shop] in sales_insights.toml, or for one run the environment; unset, the
# var's default in dbt_project.yml. The CLI passes them to every dbt command it runs as vars, so a
# merchant never edits dbt files. (toml key: the dbt var, the environment variable.)
SHOP_SETTINGS = {
    "currency": ("shop_currency", "SALES_INSIGHTS_SHOP_CURRENCY"),
    "reporting_timezone": ("reporting_timezone", "SALES_INSIGHTS_REPORTING_TIMEZONE"),
    "free_shipping_threshold": ("free_shipping_threshold", "SALES_INSIGHTS_FREE_SHIPPING_THRESHOLD"),
}


@dataclass(frozen=True)
class ShopConfig:
    """The shop's currency (ISO 4217 code: an order in another is rejected, never summed), the time zone
    its days and months are reported in (IANA name), and its free-shipping threshold (order subtotal)."""

    currency: str
    reporting_timezone: str
    free_shipping_threshold: int | float

    def dbt_vars(self) -> dict[str, object]:
        return {var: getattr(self, key) for key, (var, _) in SHOP_SETTINGS.items()}


def load_shop_config(project_dir: Path, environ: dict[str, str] | None = None) -> ShopConfig:
    """The shop settings in force: the environment's, else [shop] of sales_insights.toml, else
    dbt_project.yml's defaults. A value that is not a currency code, a time zone or a threshold is an
    error naming where it was set."""
    env = os.environ if environ is None else environ
    path = project_dir / PROJECT_CONFIG
    shop = _read_toml(path).get("shop", {})
    if not isinstance(shop, dict):
        raise SalesInsightsError(f"{path}: [shop] must be a table of settings, not {shop!r}")
    unknown = set(shop) - set(SHOP_SETTINGS)
    if unknown:
        raise SalesInsightsError(f"{path}: [shop] has unknown keys {sorted(unknown)}; known: {sorted(SHOP_SETTINGS)}")
    values = {}
    for key, (var, variable) in SHOP_SETTINGS.items():
        if env.get(variable):
            where, value = f"{variable}={env[variable]}", env[variable]
        elif key in shop:
            where, value = f"{path}: [shop] {key}", shop[key]
        else:
            where, value = f"dbt_project.yml: vars {var}", dbt_var(project_dir, var)
        values[key] = _SHOP_CHECKS[key](where, value)
    return ShopConfig(**values)


def _currency(where: str, value) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise SalesInsightsError(f"{where}: the shop currency must be an ISO 4217 code of three capital letters "
                                 f"such as USD, not {value!r}")
    return value


def _time_zone(where: str, value) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SalesInsightsError(f"{where}: the reporting time zone must be an IANA time zone name such as "
                                 f"Europe/Berlin, not {value!r}") from exc
    return str(value)


def _threshold(where: str, value) -> int | float:
    """A non-negative amount, kept as given (it is written into SQL: only a plain number gets there)."""
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d{1,2})?", value.strip()):
        value = float(value) if "." in value else int(value)
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0
            or round(value, 2) != value):
        raise SalesInsightsError(f"{where}: the free-shipping threshold must be an amount of at least 0 with at "
                                 f"most two decimals, such as 75 or 49.90, not {value!r}")
    return value


_SHOP_CHECKS = {"currency": _currency, "reporting_timezone": _time_zone, "free_shipping_threshold": _threshold}


def project_config(project_dir: Path) -> tuple[dict, Path]:
    """sales_insights.toml of the project, parsed, and its path."""
    path = project_dir / PROJECT_CONFIG
    return _read_toml(path), path


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SalesInsightsError(f"{path} is missing: it lists the marts to export") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SalesInsightsError(f"{path}: not valid TOML: {exc}") from exc


def dbt_var(project_dir: Path, name: str) -> object:
    """A var's default from dbt_project.yml (what a build without --vars uses)."""
    import yaml

    path = project_dir / "dbt_project.yml"
    try:
        return (yaml.safe_load(path.read_text(encoding="utf-8")).get("vars") or {})[name]
    except (OSError, yaml.YAMLError, KeyError, AttributeError) as exc:
        raise SalesInsightsError(f"{path}: cannot read the dbt var {name}: {exc}") from exc
