"""Shortlist trials (devtools.shortlist_trials): a generated store with one planted opportunity, built up to
its shortlist, finds that opportunity; the summary counts ranks as the README's table states them."""

from __future__ import annotations

from sales_insights.config import load_settings
from sales_insights.devtools import shortlist_trials as trials


def test_a_store_with_one_planted_page_lists_that_page_first_and_significant(tmp_path):
    store = trials.TrialStore(seed=101, users=20_000, opportunity="landing_page")
    result = trials.run_trial(load_settings(), store, tmp_path)
    assert result.orders > 500 and result.candidates > 5
    assert (result.rank, result.significant) == (1, True)


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
