"""The dbt project's layers mean what their names say. Read from the manifest `dbt parse` writes, so the rules
keep holding as models are added (docs/decisions.md, "dbt layers", says why each rule is there):

- each model sits in its layer's folder with its layer's prefix: staging/<source>/base/base_<source>__,
  staging/<source>/stg_<source>__ (the rejects table, staging/rejects/stg_rejected_rows, stages every
  source), intermediate/<area>/int_, calculations/<area>/calc_, marts/<area>/fct_ or dim_;
- a layer reads only the layers below it: sources only in base models, base models only in staging,
  intermediate models read staging and intermediate, calculations and marts never read base models;
- no model reads a model and also that model's only reader's parent again (a rejoin);
- every model has a test of its key, and its yml beside its SQL;
- ref() and source() only in the import CTEs at the top, never after a CTE that does the work;
- marts are public with an enforced contract; every source table that has a timestamp has a freshness.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sales_insights.quality.raw_contract import TABLES_BY_NAME

PROJECT_DIR = Path(__file__).resolve().parents[1]

# What a layer's models may read, by layer; a seed may be read by any layer.
LAYER_READS = {
    "base": {"source", "base"},
    "stg": {"base", "stg"},
    "int": {"stg", "int"},
    "calc": {"stg", "int", "calc", "mart"},
    "mart": {"stg", "int", "calc", "mart"},
}
KEY_TESTS = {"unique", "unique_appended", "unique_combination", "single_row"}
# Source tables without a timestamp column, that no freshness can be measured on.
NO_TIMESTAMP = {"raw_shopify_order_lines", "raw_shopify_variants", "raw_line_offsets", "raw_row_locations"}
# The tables of the other GA4 layouts, empty (or absent) when the store sends raw events: dbt would call an
# empty table stale. Their freshness is the SLO's job (sales-insights slo reads the GA4 grain that was built).
NO_FRESHNESS = NO_TIMESTAMP | {"ga4_funnel_report", "ga4_export_events"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("parse")
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--profiles-dir", "profiles",
         "--target-path", str(target / "target"), "--log-path", str(target / "logs")],
        cwd=PROJECT_DIR, capture_output=True, text=True,
        env={"PATH": str(Path(sys.executable).parent), "SALES_INSIGHTS_DBT_WAREHOUSE": str(target / "w.duckdb"),
             "HOME": str(target)},
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads((target / "target" / "manifest.json").read_text())


def _models(manifest: dict) -> dict[str, dict]:
    return {n["unique_id"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def layer(node: dict) -> str:
    """The layer a node is in, from its path and name (a seed or source is its own kind)."""
    if node["resource_type"] in ("seed", "source"):
        return node["resource_type"]
    path, name = node["original_file_path"], node["name"]
    patterns = {
        "base": r"models/staging/(?P<folder>\w+)/base/base_(?P<prefix>\w+?)__\w+\.(sql|py)",
        "stg": r"models/staging/(?P<folder>\w+)/stg_((?P<prefix>\w+?)__)?\w+\.(sql|py)",
        "int": r"models/intermediate/\w+/int_\w+\.(sql|py)",
        "calc": r"models/calculations/\w+/calc_\w+\.(sql|py)",
        "mart": r"models/marts/\w+/(fct|dim)_\w+\.(sql|py)",
    }
    for kind, pattern in patterns.items():
        match = re.fullmatch(pattern, path)
        if match and match.groupdict().get("prefix") in (None, match.groupdict().get("folder")):
            return kind
    return f"no layer ({name})"


def test_every_model_sits_in_its_layers_folder_with_its_layers_prefix(manifest):
    misplaced = {n["original_file_path"]: layer(n) for n in _models(manifest).values()
                 if layer(n).startswith("no layer")}
    assert not misplaced, misplaced


def test_each_layer_reads_only_the_layers_below_it(manifest):
    nodes = {**manifest["nodes"], **manifest["sources"]}
    wrong = []
    for model in _models(manifest).values():
        for parent in model["depends_on"]["nodes"]:
            kind = layer(nodes[parent])
            if kind != "seed" and kind not in LAYER_READS[layer(model)]:
                wrong.append(f"{model['name']} ({layer(model)}) reads {parent.split('.')[-1]} ({kind})")
            if kind == "base" and layer(model) == "base":
                # a base model reads the base models of its own source only
                assert nodes[parent]["fqn"][:-1] == model["fqn"][:-1], (model["name"], parent)
    assert not wrong, wrong


def test_no_model_rejoins_a_parent_through_its_only_child(manifest):
    """dbt-project-evaluator's rejoining of upstream concepts: A -> B -> C and A -> C, where C is B's only
    child: B's work belongs in C (or C should read A through B only)."""
    models = _models(manifest)
    children: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "snapshot"):
            for parent in node["depends_on"]["nodes"]:
                children.setdefault(parent, set()).add(node["unique_id"])
    rejoins = []
    for model in models.values():
        parents = set(model["depends_on"]["nodes"])
        for middle in parents & set(models):
            if children.get(middle) == {model["unique_id"]}:
                grandparents = parents & set(models[middle]["depends_on"]["nodes"])
                rejoins += [(p, middle, model["unique_id"]) for p in grandparents]
    assert not rejoins, rejoins


def test_every_model_has_a_test_of_its_key(manifest):
    keyed = {t["attached_node"] for t in manifest["nodes"].values()
             if t["resource_type"] == "test" and (t.get("test_metadata") or {}).get("name") in KEY_TESTS}
    assert sorted(n["name"] for n in _models(manifest).values() if n["unique_id"] not in keyed) == []


def test_every_model_is_described_by_a_yml_beside_its_sql(manifest):
    apart = {}
    for model in _models(manifest).values():
        yml = (model["patch_path"] or "").split("://", 1)[-1]
        if not model["description"] or Path(yml).parent != Path(model["original_file_path"]).parent:
            apart[model["original_file_path"]] = yml or "no yml"
    assert not apart, apart


def _ctes(code: str) -> list[tuple[str, str]]:
    """The CTEs of a model's SQL and its final select, as (name, text): a CTE starts at a line
    `name as (` (or `name as {{ ... }} (`) at the start of a line, or `with name as (`."""
    starts = [(m.start(), m.group(1)) for m in
              re.finditer(r"^(?:with )?(\w+) as (?:\{\{.*?\}\} )?\($", code, flags=re.M)]
    final = [m.start() for m in re.finditer(r"^select ", code, flags=re.M) if not starts or m.start() > starts[-1][0]]
    bounds = [*starts, *[(f, "(final select)") for f in final[-1:]]]
    return [(name, code[start:(bounds[i + 1][0] if i + 1 < len(bounds) else len(code))])
            for i, (start, name) in enumerate(bounds)]


def test_refs_sit_in_import_ctes_at_the_top(manifest):
    late = {}
    for model in _models(manifest).values():
        if model["language"] != "sql":
            continue
        code = re.sub(r"\{#.*?#\}|^\s*--.*$", "", model["raw_code"], flags=re.S | re.M)
        seen_work = None
        for name, text in _ctes(code):
            # raw_table() is the source() of the base models: the mock seed or the raw table
            reads = re.search(r"\b(ref|source|raw_table)\(", text)
            if reads and seen_work:
                late.setdefault(model["name"], []).append(f"{name} after {seen_work}")
            elif not reads:
                seen_work = seen_work or name
    assert not late, late


def test_the_cte_reader_finds_imports_and_work():
    code = ("with orders as (\n    select * from {{ ref('fct_orders') }}\n),\n\ndaily as (\n    select 1\n),\n\n"
            "final as (\n    select * from daily join {{ ref('x') }}\n)\n\nselect * from final\n")
    assert [(name, bool(re.search(r"\bref\(", text))) for name, text in _ctes(code)] == [
        ("orders", True), ("daily", False), ("final", True), ("(final select)", False)]


def test_marts_are_public_with_an_enforced_contract(manifest):
    marts = [n for n in _models(manifest).values() if layer(n) == "mart"]
    assert len(marts) > 15
    assert [n["name"] for n in marts if n["access"] != "public" or not n["config"]["contract"]["enforced"]] == []
    assert all(n["access"] != "public" for n in _models(manifest).values() if layer(n) != "mart")


def test_every_source_table_with_a_timestamp_has_a_freshness(manifest):
    sources = manifest["sources"].values()
    for source in sources:
        if source["name"] in TABLES_BY_NAME:
            # the raw contract's timestamps (GA4's event_timestamp is microseconds, an integer)
            columns = TABLES_BY_NAME[source["name"]].columns
            has_timestamp = any(c.type in ("timestamp", "yyyymmdd") or c.name == "event_timestamp" for c in columns)
            assert has_timestamp == (source["name"] not in NO_TIMESTAMP), source["name"]
    stale = [s["name"] for s in sources if s["name"] not in NO_FRESHNESS
             and not (s["loaded_at_field"] and (s["freshness"] or {}).get("warn_after", {}).get("count"))]
    assert stale == []
    assert {s["name"] for s in sources} >= NO_TIMESTAMP | set(TABLES_BY_NAME)
