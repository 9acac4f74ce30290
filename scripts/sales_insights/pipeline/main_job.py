"""The main job, end to end: make sure there is data, build the warehouse (dbt build, then the Great
Expectations contracts on the new file), publish it, export the marts. A step that fails stops the job: a
build whose models, tests or contracts fail publishes nothing and exports nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sales_insights.config import ProjectConfig, Settings, load_project_config
from sales_insights.devtools.generate import GeneratorConfig, config_as_dict, generate, read_generated_config
from sales_insights.outputs.export import ExportResult, export_marts
from sales_insights.outputs.report import ReportResult, write_report
from sales_insights.pipeline.build import BuildResult, build
from sales_insights.pipeline.data_source import DataSource, resolve_source
from sales_insights.pipeline.locks import exclusive_lock


@dataclass
class RunResult:
    source: DataSource
    generated: bool
    build: BuildResult
    export: ExportResult
    report: ReportResult


# Beside the generated set: the fingerprint of the code that generated it.
GENERATED_BY = ".generated-by"
# The generator and what it imports of the package (the contract's tables, the catalog, the export writer).
GENERATOR_MODULES = ("devtools/generate.py", "devtools/ga4_export_writer.py", "devtools/mock_catalog.py",
                     "quality/raw_contract.py", "sql.py")


def generator_fingerprint() -> str:
    """sha256 over the modules that make the mock set: a checkout whose generator changed (a `git pull`) makes
    it again rather than build on one the old code made."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parents[1] / name for name in GENERATOR_MODULES):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_mock_data(out_dir: Path, config: GeneratorConfig) -> bool:
    """Generate the mock set into out_dir unless a complete set made with the same settings by the same code
    is there. Returns True when it generated."""
    stamp = Path(out_dir) / GENERATED_BY
    made_by = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else None
    fingerprint = generator_fingerprint()
    if read_generated_config(out_dir) == config_as_dict(config) and made_by == fingerprint:
        return False
    stamp.unlink(missing_ok=True)
    generate(out_dir, config)
    stamp.write_text(fingerprint + "\n", encoding="utf-8")
    return True


def run_main(
    settings: Settings,
    data_dir: Path | None = None,
    warehouse: Path | None = None,
    generator: GeneratorConfig | None = None,
    on_output: Callable[[str], None] | None = None,
    full_refresh: bool = False,
    on_progress: Callable[[str], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> RunResult:
    config = load_project_config(settings.project_dir)  # a broken config fails before the long steps
    target = (warehouse or settings.warehouse).resolve()
    # One job at a time: a scheduled run that finds the previous one still going fails at once, saying so.
    with exclusive_lock(target.with_name(target.name + ".job.lock"), "sales-insights run"):
        return _run_locked(settings, config, data_dir, target, generator, on_output, full_refresh, on_progress,
                           on_note)


def _run_locked(
    settings: Settings,
    config: ProjectConfig,
    data_dir: Path | None,
    warehouse: Path,
    generator: GeneratorConfig | None,
    on_output: Callable[[str], None] | None,
    full_refresh: bool,
    on_progress: Callable[[str], None] | None,
    on_note: Callable[[str], None] | None = None,
) -> RunResult:
    source = resolve_source(settings, data_dir)
    generated = False
    if source.is_mock:
        # The main job runs on the full-size mock set (a year of a mid-size store), not the small seeds.
        if on_progress:
            on_progress(f"generating mock data in {settings.mock_data_dir} (skipped when already there)")
        generated = ensure_mock_data(settings.mock_data_dir, generator or GeneratorConfig())
        source = DataSource(
            "directory", settings.mock_data_dir, f"generated mock data in {settings.mock_data_dir}", source.notes
        )
    result = build(settings, source, warehouse, on_output, full_refresh, on_progress=on_progress, on_note=on_note)
    # The exports and the report stay with their warehouse (`run --warehouse W` writes beside W).
    exported = export_marts(result.warehouse, settings.export_dir_for(result.warehouse), list(config.export_marts),
                            keep_runs=config.keep_export_runs, on_progress=on_progress,
                            order_by=config.export_order_by,
                            neutralize_formulas=config.neutralize_export_formulas)
    report = write_report(result.warehouse, report_path(settings, result.warehouse), config.slo.tracking_coverage_floor,
                          on_progress)
    return RunResult(source, generated, result, exported, report)


def report_path(settings: Settings, warehouse: Path | None = None) -> Path:
    """Where `run` writes the report of `warehouse` and where `report` writes it by default: beside its
    export folders."""
    return settings.export_dir_for(warehouse) / "report.html"
