"""Which raw data a build reads, from the flags USE_MOCK_DATA and ENABLE_MCP and the options given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sales_insights.config import Settings
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.ga4_export import has_export
from sales_insights.pipeline.load import ga4_grain, grain_tables, read_header


@dataclass(frozen=True)
class DataSource:
    kind: str  # "seeds": the committed mock seeds, loaded by dbt; "directory": contract CSVs, loaded by DuckDB
    path: Path
    description: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_mock(self) -> bool:
        return self.kind == "seeds"


def extract_is_complete(settings: Settings) -> bool:
    """The MCP extracts' current/ holds a whole data directory: every Shopify table and GA4 at one grain, each
    file with the contract's header."""
    current = settings.extract_dir / "current"
    if not current.is_dir():
        return False
    try:  # the loader's own checks, before it loads anything
        tables, _ = grain_tables(ga4_grain(current))
        for table in tables:
            read_header(current / table.file_name, table)
    except (SalesInsightsError, OSError):
        return False
    return True


def mcp_blocked(settings: Settings) -> bool:
    """MCP is asked for, but its data cannot be built from (not configured, or nothing extracted yet)."""
    return settings.enable_mcp and (settings.mcp_unconfigured or not extract_is_complete(settings))


def mcp_notes(settings: Settings) -> tuple[str, ...]:
    if not settings.enable_mcp:
        return ()
    if settings.mcp_unconfigured:
        notes = ["blocked on MCP data: ENABLE_MCP=true but " + ", ".join(settings.missing_mcp_variables)
                 + " not set; no GA4 or Shopify extract can be made"]
    elif not extract_is_complete(settings):
        notes = ["blocked on MCP data: the MCP connectors are configured but no complete extract is in "
                 f"{settings.extract_dir / 'current'}; " + _shopify_server_note(settings)]
    else:
        notes = [f"MCP extracts ready in {settings.extract_dir / 'current'}"]
    if settings.use_mock_data:
        notes.append("USE_MOCK_DATA=true keeps the build on mock data; set USE_MOCK_DATA=false to build from the "
                     "MCP extracts")
    return ("; ".join(notes) + ".",)


def _shopify_server_note(settings: Settings) -> str:
    """What to do next: run an extract, unless the Shopify server's profile says it cannot deliver one."""
    from sales_insights.connectors.shopify_profiles import project_profile

    try:
        profile = project_profile(settings.project_dir)
    except SalesInsightsError as exc:
        return f"the Shopify server profile cannot be read: {exc}"
    if profile.gaps:
        return (f"the Shopify MCP server (profile {profile.name}: {profile.server}) cannot deliver a complete "
                f"extract ({'; '.join(profile.gaps)}): use another server or Shopify's Bulk Operation export")
    return "run `sales-insights extract --since DATE`"


def resolve_source(settings: Settings, data_dir: Path | None = None) -> DataSource:
    """The raw data for a build: an explicit directory wins, then SALES_INSIGHTS_DATA_DIR, then mocks when
    USE_MOCK_DATA=true (even with ENABLE_MCP=true), then the MCP extracts when ENABLE_MCP=true."""
    notes = mcp_notes(settings)
    chosen = data_dir or settings.data_dir
    if chosen is not None:
        what = ("contract CSVs and GA4's BigQuery export" if has_export(Path(chosen)) else "contract CSVs")
        return DataSource("directory", Path(chosen).resolve(), f"{what} in {chosen}", notes)
    if settings.use_mock_data:
        return DataSource("seeds", settings.seeds_dir, "the committed mock seeds (USE_MOCK_DATA=true)", notes)
    if settings.enable_mcp:
        if mcp_blocked(settings):
            raise SalesInsightsError(
                notes[0].split(";")[0] + ", and USE_MOCK_DATA=false, so there is nothing to build from. "
                "Set USE_MOCK_DATA=true to keep working on mocks, or pass --data-dir DIR."
            )
        current = settings.extract_dir / "current"
        return DataSource("directory", current, f"the MCP extracts in {current}", notes)
    raise SalesInsightsError(
        "USE_MOCK_DATA=false needs real data: pass --data-dir DIR (a directory of raw-contract CSVs) "
        "or set SALES_INSIGHTS_DATA_DIR"
    )
