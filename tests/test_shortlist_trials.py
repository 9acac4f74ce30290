"""Shortlist trials (devtools.shortlist_trials): 30 generated stores, each with one planted opportunity or none,
built up to their shortlists (about 5 minutes, the suite's one run of them): each planted kind is in the top 3
where the store is large enough to find it, no store without one shows a significant candidate, and the README's
table is what the trials measure. The summary counts ranks as that table states them."""

from __future__ import annotations

import yaml

from conftest import PROJECT_DIR
from sales_insights.config import load_settings
from sales_insights.devtools import shortlist_trials as trials


def test_the_trial_stores_find_what_was_planted_and_the_readme_shows_their_table(tmp_path):
    settings = load_settings()
    stores = trials.trial_stores()
    results = trials.run_trials(settings, stores, tmp_path)
    rows = trials.summary_rows(results)
    table = trials.markdown_table(rows)
    alpha = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["experiment_alpha"]
    assert len(stores) >= 30 and {r["planted"] for r in rows} == {*trials.DETECTABLE_FROM, "nothing"}
    assert all(r.orders > 500 and r.candidates > 5 for r in results), table
    for row in rows:
        if row["planted"] == "nothing":
            assert row["any_other_significant"] <= alpha, table
        elif row["visitors"] >= trials.DETECTABLE_FROM[row["planted"]]:
            assert row["top_3"] >= trials.TOP_3_TARGET and row["significant"] == 1, table
    assert table in (PROJECT_DIR / "README.md").read_text(), f"the README should show the trials' table:\n{table}"


def _result(kind, users, rank, significant=True, others=0, orders=900):
    return trials.TrialResult(trials.TrialStore(1, users, kind), orders, 20, rank, significant, others)


def test_the_summary_counts_ranks_by_kind_and_size_and_false_positives_of_null_stores():
    results = [
        _result("cross_sell", 20_000, 2), _result("cross_sell", 20_000, 7, orders=1_080),
        _result("cross_sell", 20_000, None, significant=False, orders=1_000),
        _result(None, 20_000, None, significant=False, others=2), _result(None, 20_000, None, significant=False),
    ]
    rows = trials.summary_rows(results)
    assert [(r["planted"], r["stores"]) for r in rows] == [("cross_sell", 3), ("nothing", 2)]
    cross = rows[0]
    assert (cross["top_3"], cross["top_10"], cross["significant"]) == (1 / 3, 2 / 3, 2 / 3)
    assert cross["median_rank"] == 7 and cross["orders_a_day"] == 1_000 / trials.TRIAL_DAYS
    assert rows[1]["any_other_significant"] == 0.5 and rows[1]["top_3"] is None
    table = trials.markdown_table(rows).splitlines()
    assert table[2] == "| cross_sell | 20,000 | 5.6 | 3 | 67% | 33% | 67% | 7 | 0% |"
    assert table[3] == "| nothing | 20,000 | 5.0 | 2 | - | - | - | - | 50% |"
