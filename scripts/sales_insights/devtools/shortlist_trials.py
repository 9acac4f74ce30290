"""Shortlist trials: many small generated stores whose answers are known, each built to its shortlist.

A trial store plants one opportunity of devtools.mock_catalog.OPPORTUNITIES at its mock size (the summer-sale
page adding to cart at 0.3 times the rest, the mobile purchase step at 0.5 times, the sock attached to 55% of
the shoe orders that lack it, the dearer backpack never bought with the cheaper one), in a store where nothing
else differs; a null store plants nothing. Each store is generated, loaded and built by dbt up to
marts.fct_experiment_shortlist (the models and seeds it needs; no tests: the suite checks those on its own
stores), into one warehouse path reused from store to store so that dbt parses the project once.

The summary says, per planted kind and store size, how often the planted candidate is significant, in the
top 3 and in the top 10 of the shortlist, and its median rank; and, of the null stores, the share with any
significant candidate (a false positive: a store with nothing to find should show nothing significant).
`python -m sales_insights.devtools.shortlist_trials WORK_DIR` runs every store of
trial_stores() (about 10 s a store on a 2-core machine) and prints the table.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sales_insights.config import Settings, load_settings, load_shop_config
from sales_insights.devtools import mock_catalog as catalog
from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.build import MOCK_SEEDS_SELECTOR, _remove_database, run_dbt
from sales_insights.pipeline.load import load_data_dir

TRIAL_DAYS = 180
# Visitors over TRIAL_DAYS: a small store (about 8 orders a day) and one three times its size.
TRIAL_SIZES = (20_000, 60_000)
TRIAL_SEEDS = (101, 102, 103)
NULL_SEEDS = (201, 202, 203)
# The smallest trial size at which each planted kind should be in the top 3 of at least 90% of the stores (the
# README states it; tests/test_shortlist_trials.py holds the trials to it). The substitute's test compares the
# dearer product's share of the other product slots of the cheaper one's orders with its share of all slots, and
# at 20,000 visitors (about 7 orders a day) it has too few: on seed 101 the 205 orders of the two backpacks give
# p = 0.05, q = 0.25 over 10 pairs; at 60,000 their 669 orders give q = 0.005 over 15.
DETECTABLE_FROM: dict[str, int] = {"landing_page": 20_000, "funnel_step": 20_000, "cross_sell": 20_000,
                                   "upsell_substitute": 60_000}
TOP_3_TARGET = 0.9


def _pair_keys(first: int, second: int) -> frozenset[str]:
    return frozenset({f"product:{first}->product:{second}", f"product:{second}->product:{first}"})


# The target_key of the candidate that finds each planted opportunity (a pair in either direction).
PLANTED_KEYS: dict[str, frozenset[str]] = {
    "landing_page": frozenset({f"landing_page:{catalog.LEAKY_LANDING_PAGE}"}),
    "funnel_step": frozenset({f"funnel_step:device_category={catalog.LEAKY_DEVICE}:purchase"}),
    "cross_sell": _pair_keys(catalog.PAIR_ANCHOR.id, catalog.PAIR_ADDON.id),
    "upsell_substitute": frozenset({f"product:{catalog.UPSELL_CHEAP.id}->product:{catalog.UPSELL_DEAR.id}"}),
}


@dataclass(frozen=True)
class TrialStore:
    seed: int
    users: int
    opportunity: str | None  # None: a null store, nothing planted

    @property
    def config(self) -> GeneratorConfig:
        return GeneratorConfig(
            seed=self.seed, users=self.users, days=TRIAL_DAYS, bad_rows=False,
            planted=self.opportunity is not None,
            opportunities=(self.opportunity,) if self.opportunity else None,
        )


@dataclass(frozen=True)
class TrialResult:
    store: TrialStore
    orders: int
    candidates: int
    # the planted candidate's rank and whether it is significant (None and False when it is not listed)
    rank: int | None
    significant: bool
    # significant candidates that find nothing planted: false discoveries
    other_significant: int


def trial_stores(sizes=TRIAL_SIZES, seeds=TRIAL_SEEDS, null_seeds=NULL_SEEDS) -> list[TrialStore]:
    """Every planted kind at every size with every seed, and a null store per size and null seed."""
    planted = [TrialStore(seed, users, kind) for kind in catalog.OPPORTUNITIES for users in sizes for seed in seeds]
    return planted + [TrialStore(seed, users, None) for users in sizes for seed in null_seeds]


def build_shortlist(settings: Settings, data_dir: Path, warehouse: Path) -> int:
    """Load data_dir into a new warehouse and build it up to the shortlist; the number of orders loaded."""
    _remove_database(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        report = load_data_dir(con, data_dir)
    dbt_vars = {"use_mock_data": False, "ga4_grain": report.ga4_grain, "cli_build": True,
                **load_shop_config(settings.project_dir).dbt_vars()}
    args = ["build", "--select", "+fct_experiment_shortlist", "--resource-type", "model", "--resource-type",
            "seed", "--exclude", MOCK_SEEDS_SELECTOR, "--vars", json.dumps(dbt_vars)]
    code, _, tail = run_dbt(settings, args, warehouse)
    if code != 0:
        said = "\n".join(f"  | {line}" for line in tail if line.strip())
        raise SalesInsightsError(f"the trial store of {data_dir} did not build (dbt exited {code}):\n{said}")
    return report.row_counts["raw_shopify_orders"]


def run_trial(settings: Settings, store: TrialStore, work_dir: Path) -> TrialResult:
    """Generate the store into work_dir/data, build its shortlist into work_dir/trial.duckdb, and find the
    planted candidate in it."""
    data_dir = work_dir / "data"
    generate(data_dir, store.config)
    warehouse = work_dir / "trial.duckdb"
    orders = build_shortlist(settings, data_dir, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select rank, target_key, is_significant from marts.fct_experiment_shortlist "
                           "order by rank").fetchall()
    keys = PLANTED_KEYS.get(store.opportunity or "", frozenset())
    found = [(rank, bool(sig)) for rank, key, sig in rows if key in keys]
    rank, significant = min(found) if found else (None, False)
    others = sum(1 for _, key, sig in rows if sig and key not in keys)
    return TrialResult(store, orders, len(rows), rank, significant, others)


def run_trials(settings: Settings, stores: list[TrialStore], work_dir: Path,
               on_progress: Callable[[TrialResult], None] | None = None) -> list[TrialResult]:
    results = []
    for store in stores:
        results.append(run_trial(settings, store, work_dir))
        if on_progress:
            on_progress(results[-1])
    return results


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def summary_rows(results: list[TrialResult]) -> list[dict]:
    """One row per planted kind and store size, and one per null store size: the figures of the table."""
    rows = []
    groups: dict[tuple[str | None, int], list[TrialResult]] = {}
    for result in results:
        groups.setdefault((result.store.opportunity, result.store.users), []).append(result)
    order = {kind: i for i, kind in enumerate((*catalog.OPPORTUNITIES, None))}
    for (kind, users), group in sorted(groups.items(), key=lambda item: (order[item[0][0]], item[0][1])):
        ranks = [r.rank for r in group]
        rows.append({
            "planted": kind or "nothing", "visitors": users, "stores": len(group),
            "orders_a_day": statistics.median(r.orders for r in group) / TRIAL_DAYS,
            "significant": _share([r.significant for r in group]) if kind else None,
            "top_3": _share([rank is not None and rank <= 3 for rank in ranks]) if kind else None,
            "top_10": _share([rank is not None and rank <= 10 for rank in ranks]) if kind else None,
            # a store whose shortlist does not list the planted candidate counts past every listed one
            "median_rank": statistics.median(rank or 1_000 for rank in ranks) if kind else None,
            "any_other_significant": _share([r.other_significant > 0 for r in group]),
        })
    return rows


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "share":
        return f"{100 * value:.0f}%"
    if kind == "rank":
        return "not listed" if value >= 1_000 else f"{value:g}"
    return f"{value:,.1f}" if kind == "rate" else f"{value:,}"


def markdown_table(rows: list[dict]) -> str:
    """The summary as the README's table."""
    columns = [("planted", "planted", "text"), ("visitors", "visitors (180 days)", "int"),
               ("orders_a_day", "orders a day", "rate"), ("stores", "stores", "int"),
               ("significant", "significant", "share"), ("top_3", "top 3", "share"), ("top_10", "top 10", "share"),
               ("median_rank", "median rank", "rank"),
               ("any_other_significant", "stores with another significant candidate", "share")]
    lines = ["| " + " | ".join(title for _, title, _ in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(row[key]) if kind == "text" else _cell(row[key], kind)
                                       for key, _, kind in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """python -m sales_insights.devtools.shortlist_trials WORK_DIR: run every trial store, printing each
    result as it comes, then the table."""
    if len(argv) != 1:
        sys.exit("usage: python -m sales_insights.devtools.shortlist_trials WORK_DIR")
    work_dir = Path(argv[0])
    work_dir.mkdir(parents=True, exist_ok=True)

    def said(result: TrialResult) -> None:
        store = result.store
        print(f"{store.opportunity or 'nothing'} {store.users:,} visitors, seed {store.seed}: {result.orders:,} "
              f"orders, rank {result.rank}, significant {result.significant}, "
              f"{result.other_significant} other significant", flush=True)

    print(markdown_table(summary_rows(run_trials(load_settings(), trial_stores(), work_dir, said))))


if __name__ == "__main__":
    main(sys.argv[1:])
