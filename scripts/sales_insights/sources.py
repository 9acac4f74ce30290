"""Which raw data a build reads, from the flags USE_MOCK_DATA and ENABLE_MCP and the options given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .errors import SalesInsightsError


@dataclass(frozen=True)
class DataSource:
    kind: str  # "seeds": the committed mock seeds, loaded by dbt; "directory": contract CSVs, loaded by DuckDB
    path: Path
    description: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_mock(self) -> bool:
        return self.kind == "seeds"


def mcp_notes(settings: Settings) -> tuple[str, ...]:
    if not settings.enable_mcp:
        return ()
    if settings.mcp_unconfigured:
        return (
            "blocked on MCP data: ENABLE_MCP=true but "
            + ", ".join(settings.missing_mcp_variables)
            + " not set; no GA4 or Shopify extract can be made, so the project runs on mock data.",
        )
    return (
        "blocked on MCP data: the MCP connectors are configured and `sales-insights extract` lands their data in "
        f"{settings.extract_dir}, but GA4's Data API gives report-level data and the funnel marts cannot be built "
        "from it yet; the project runs on mock data.",
    )


def resolve_source(settings: Settings, data_dir: Path | None = None) -> DataSource:
    """The raw data for a build: an explicit directory wins, then SALES_INSIGHTS_DATA_DIR, then mocks."""
    notes = mcp_notes(settings)
    chosen = data_dir or settings.data_dir
    if chosen is not None:
        return DataSource("directory", Path(chosen).resolve(), f"contract CSVs in {chosen}", notes)
    if not settings.use_mock_data:
        if settings.enable_mcp:
            raise SalesInsightsError(
                notes[0].split(";")[0] + " and USE_MOCK_DATA=false, so there is nothing to build from. "
                "Set USE_MOCK_DATA=true to keep working on mocks, or pass --data-dir DIR."
            )
        raise SalesInsightsError(
            "USE_MOCK_DATA=false needs real data: pass --data-dir DIR (a directory of raw-contract CSVs) "
            "or set SALES_INSIGHTS_DATA_DIR"
        )
    return DataSource("seeds", settings.seeds_dir, "the committed mock seeds (USE_MOCK_DATA=true)", notes)
