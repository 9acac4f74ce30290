"""The experiment shortlist: its statistics against scipy and published results, its families on small
hand-made inputs and on simulated funnels, and the whole build on the default mock store (which plants
three opportunities) and on a store generated without them (which must yield none)."""

from __future__ import annotations

import hashlib
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from conftest import build_generated_store
from sales_insights.analytics import experiments as ex
from sales_insights.analytics.model_io import ordered_df
from sales_insights.cli import main
from sales_insights.devtools.generate import GeneratorConfig
from sales_insights.devtools.mock_catalog import LEAKY_DEVICE, LEAKY_LANDING_PAGE, PAIR_ADDON, PAIR_ANCHOR
from sales_insights.outputs.shortlist import format_shortlist

# --------------------------------------------------------------------------------------------------
# statistics


def test_benjamini_hochberg_matches_the_published_example_and_scipy():
    # Benjamini and Hochberg (1995), section 4: fifteen p-values, of which the procedure at q = 0.05
    # rejects the four smallest (Bonferroni-type procedures reject three).
    p = np.array([0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262,
                  0.5719, 0.6528, 0.7590, 1.0000])
    shuffled = np.random.default_rng(3).permutation(len(p))
    adjusted = ex.benjamini_hochberg(p[shuffled])
    assert int((adjusted < 0.05).sum()) == 4
    assert set(p[shuffled][adjusted < 0.05]) == {0.0001, 0.0004, 0.0019, 0.0095}
    np.testing.assert_allclose(adjusted, stats.false_discovery_control(p[shuffled], method="bh"), rtol=1e-12)
    assert ex.benjamini_hochberg([]).size == 0


def test_fisher_exact_for_many_tables_at_once_is_scipys_table_by_table():
    rng = np.random.default_rng(17)
    n = rng.integers(50, 5000, 300)
    a = (rng.uniform(0.01, 0.6, 300) * n).astype(int) + 1
    b = (rng.uniform(0.01, 0.6, 300) * n).astype(int) + 1
    both = np.minimum(rng.binomial(np.minimum(a, b), rng.uniform(0, 0.8, 300)), np.minimum(a, b))
    both = np.maximum(both, np.maximum(a + b - n, 0))
    for alternative in ("greater", "less"):
        fast = ex.fisher_exact_one_sided(both, a, b, n, alternative)
        slow = [stats.fisher_exact([[x, ra - x], [rb - x, nn - ra - rb + x]], alternative=alternative)[1]
                for x, ra, rb, nn in zip(both, a, b, n, strict=True)]
        np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-300)
    with pytest.raises(ValueError, match="greater or less"):
        ex.fisher_exact_one_sided(both, a, b, n, "two-sided")


def _independent_baskets(rng, orders: int, products: int):
    """Orders of 1 + Poisson(0.45) lines, each line's product drawn independently by a falling popularity:
    per pair (A, B) the counts the co-purchase tests read."""
    popularity = 1 / np.arange(1, products + 1) ** 0.8
    sizes = 1 + rng.poisson(0.45, orders)
    holds = np.zeros((orders, products), bool)
    order_of_line = np.repeat(np.arange(orders), sizes)
    holds[order_of_line, rng.choice(products, len(order_of_line), p=popularity / popularity.sum())] = True
    kept = holds.any(axis=1)
    holds = holds[kept]
    slots_per_order = holds.sum(axis=1)
    a, b = np.triu_indices(products, 1)
    with_product = holds.sum(axis=0)
    slots_of_product = (holds * slots_per_order[:, None]).sum(axis=0)
    both = (holds[:, a] & holds[:, b]).sum(axis=0)
    return {"both": both, "a": with_product[a], "slots_a": slots_of_product[a], "b": with_product[b],
            "n": len(holds), "slots": slots_per_order.sum()}


def test_co_purchase_tests_know_small_baskets_where_order_counts_take_them_for_avoidance():
    rng = np.random.default_rng(3)
    less_by_slots, less_by_orders, more_by_slots = [], [], []
    for _ in range(20):
        c = _independent_baskets(rng, 3_000, 12)
        less_by_slots += list(ex.co_purchase_p_values(c["both"], c["a"], c["slots_a"], c["b"], c["slots"], "less"))
        more_by_slots += list(ex.co_purchase_p_values(c["both"], c["a"], c["slots_a"], c["b"], c["slots"],
                                                      "greater"))
        less_by_orders += list(ex.fisher_exact_one_sided(c["both"], c["a"], c["b"], c["n"], "less"))
    # 1,320 pairs of products drawn independently: knowing the baskets, about 5% fall under 0.05 each way
    assert np.mean(np.asarray(less_by_slots) < 0.05) < 0.08
    assert np.mean(np.asarray(more_by_slots) < 0.05) < 0.08
    # counted by orders, most pairs look like substitutes
    assert np.mean(np.asarray(less_by_orders) < 0.05) > 0.3


def test_a_substitute_test_takes_the_slots_a_products_partner_fills_as_no_room_for_the_dearer_one():
    """Product 1 sits in 100 orders holding 150 other products; product 2 is in 90 of them, where chance (its
    1,000 of the 9,900 slots outside product 1) gives 150 x 1,000 / 9,900 = 15.15: 74.85, so 75 slots, are the
    partner's beyond chance. The dearer product 3 (400 orders) is never with product 1: counted over every slot
    chance gives 150 x 400 / 9,900 = 6.06 together, over the 75 slots left 75 x 400 / 9,825 = 3.05, and the test
    is Fisher's of [[0, 75], [400, 9,350]]."""
    def pair(b, with_b, both):
        return {"product_a_id": 1, "product_b_id": b, "orders_with_a": 100, "orders_with_b": with_b,
                "orders_with_both": both, "products_in_orders_with_a": 250, "order_product_slots": 10_000}

    pairs = pd.DataFrame([pair(2, 1_000, 90), pair(3, 400, 0), {**pair(2, 1_000, 90), "product_a_id": 4}])
    substitutes = pd.DataFrame([{"cheaper_product_id": 1, "cheaper_product_title": "Tee", "dearer_product_id": 3,
                                 "dearer_product_title": "Tee+", "product_type": "tee", "cheaper_price": 10.0,
                                 "dearer_price": 15.0, "cheaper_orders": 100, "dearer_orders": 400,
                                 "orders_with_both": 0, "orders_with_products": 8_000,
                                 "products_in_orders_with_cheaper": 250, "order_product_slots": 10_000,
                                 "period_days": 90}])
    taken = ex.with_partner_slots(substitutes, pairs, SETTINGS)
    assert taken["partner_slots"].tolist() == [75.0]
    assert ex.with_partner_slots(substitutes, pairs.iloc[:0], SETTINGS)["partner_slots"].tolist() == [0.0]
    before = ex._substitute_upsells(substitutes, 90.0, SETTINGS).iloc[0]
    after = ex._substitute_upsells(taken, 90.0, SETTINGS).iloc[0]
    assert before["comparison_rate"] * 8_000 == pytest.approx(150 * 400 / 9_900)
    assert after["comparison_rate"] * 8_000 == pytest.approx(75 * 400 / 9_825)
    assert before["p_value"] == pytest.approx(stats.fisher_exact([[0, 150], [400, 9_350]], alternative="less")[1])
    assert after["p_value"] == pytest.approx(stats.fisher_exact([[0, 75], [400, 9_350]], alternative="less")[1])
    assert after["p_value"] > 2 * before["p_value"]


def test_two_proportion_test_is_the_pooled_z_test_of_pearsons_chi_square():
    cases = [(30, 1000, 60, 1000), (120, 2400, 100, 1500), (5, 80, 9, 70), (700, 5000, 640, 5000)]
    for x1, n1, x2, n2 in cases:
        z, p, gap, low, high = ex.two_proportion_test(x1, n1, x2, n2)
        chi2, p_two, _, _ = stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
        assert z**2 == pytest.approx(chi2, rel=1e-9)
        # one-sided "rate 1 is below rate 2": half the two-sided p when rate 1 is lower, else the rest
        assert p == pytest.approx(p_two / 2 if x1 / n1 < x2 / n2 else 1 - p_two / 2, rel=1e-9)
        assert gap == pytest.approx(x1 / n1 - x2 / n2)
        se = np.sqrt(x1 / n1 * (1 - x1 / n1) / n1 + x2 / n2 * (1 - x2 / n2) / n2)
        assert (low, high) == pytest.approx((gap - 1.959964 * se, gap + 1.959964 * se), rel=1e-6)


def test_shifted_null_keeps_its_size_at_the_boundary_and_rejects_a_real_shortfall():
    """H0: p1 >= 0.9 p2. Simulated at the boundary the test rejects about alpha of the time; with no gap
    almost never; with a 30% shortfall almost always."""
    rng = np.random.default_rng(2026)
    n1, n2, p2, sims = 4000, 20000, 0.08, 6000

    def rejection_rate(p1: float) -> float:
        x1, x2 = rng.binomial(n1, p1, sims), rng.binomial(n2, p2, sims)
        return float((ex.two_proportion_test(x1, n1, x2, n2, ratio=0.9)[1] < 0.05).mean())

    assert 0.035 <= rejection_rate(0.9 * p2) <= 0.065
    assert rejection_rate(p2) < 0.005
    assert rejection_rate(0.7 * p2) > 0.95


def test_sample_size_for_two_proportions_matches_the_textbook_figure_and_gives_the_power_asked_for():
    # 10% -> 15% at alpha 0.05 (two-sided), power 0.8: 686 per arm by the normal approximation
    # without continuity correction.
    assert ex.sample_size_two_proportions(0.10, 0.15, 0.05, 0.8) == 686
    n = int(ex.sample_size_two_proportions(0.04, 0.05, 0.05, 0.8))
    # Simulated two-sided pooled z-tests with n per arm detect the 4% -> 5% change about 80% of the time.
    rng = np.random.default_rng(11)
    x1, x2 = rng.binomial(n, 0.04, 4000), rng.binomial(n, 0.05, 4000)
    p_one_sided = ex.two_proportion_test(x1, n, x2, n)[1]
    power = float((np.minimum(p_one_sided, 1 - p_one_sided) * 2 < 0.05).mean())
    assert 0.77 <= power <= 0.83
    # a smaller effect needs more visitors, a higher power too; equal rates can never be told apart
    assert ex.sample_size_two_proportions(0.04, 0.044, 0.05, 0.8) > n
    assert ex.sample_size_two_proportions(0.04, 0.05, 0.05, 0.9) > n
    assert np.isinf(ex.sample_size_two_proportions(0.04, 0.04, 0.05, 0.8))


def test_sample_size_for_two_means_matches_the_published_figure_and_gives_the_power_asked_for():
    # A difference of half a standard deviation (Cohen's d = 0.5) at alpha 0.05 two-sided, power 0.8:
    # 2 (1.95996 + 0.84162)^2 / 0.25 = 62.8, so 63 per arm by the normal approximation (Cohen's table,
    # for the t test, gives 64).
    assert ex.sample_size_two_means(5.0, 10.0, 0.05, 0.8) == 63
    assert ex.sample_size_two_means(2.5, 10.0, 0.05, 0.8) == 252  # half the difference, four times the units
    # Simulated: order values with a standard deviation of 40, a change of 6 a order, z-tests of the means.
    n = int(ex.sample_size_two_means(6.0, 40.0, 0.05, 0.8))
    rng = np.random.default_rng(5)
    a, b = rng.normal(70, 40, (3000, n)), rng.normal(76, 40, (3000, n))
    z = (b.mean(axis=1) - a.mean(axis=1)) / np.sqrt(a.var(axis=1, ddof=1) / n + b.var(axis=1, ddof=1) / n)
    assert 0.77 <= float((np.abs(z) > stats.norm.ppf(0.975)).mean()) <= 0.83


def test_the_detectable_change_is_the_inverse_of_the_sample_size():
    per_arm = np.array([500.0, 5_000.0, 50_000.0])
    rates = ex.detectable_rate(0.04, per_arm, 0.05, 0.8)
    assert (np.diff(rates) < 0).all()  # more traffic detects smaller changes
    assert (ex.sample_size_two_proportions(0.04, rates, 0.05, 0.8) <= per_arm).all()
    assert (ex.sample_size_two_proportions(0.04, rates - 1e-4, 0.05, 0.8) > per_arm).all()
    # ten units an arm cannot tell 99.9% from anything
    assert np.isnan(ex.detectable_rate(0.999, 10.0, 0.05, 0.8))
    difference = ex.detectable_mean_difference(40.0, 1_000.0, 0.05, 0.8)
    assert ex.sample_size_two_means(difference * 1.0001, 40.0, 0.05, 0.8) <= 1_000
    assert ex.sample_size_two_means(difference * 0.999, 40.0, 0.05, 0.8) > 1_000


# --------------------------------------------------------------------------------------------------
# families on small inputs

SETTINGS = ex.ExperimentSettings()


def test_cross_sell_evidence_and_impact_by_hand():
    # 1000 orders over 365 days holding 1,400 products: 100 with A (250 products), 80 with B (200 products),
    # 40 with both; B costs 50.
    pairs = pd.DataFrame([
        {"product_a_id": 1, "product_a_title": "A", "product_b_id": 2, "product_b_title": "B", "product_b_price": 50.0,
         "orders_with_a": 100, "orders_with_b": 80, "orders_with_both": 40, "orders_with_products": 1000,
         "products_in_orders_with_a": 250, "order_product_slots": 1400, "period_days": 365},
        {"product_a_id": 2, "product_a_title": "B", "product_b_id": 1, "product_b_title": "A", "product_b_price": 10.0,
         "orders_with_a": 80, "orders_with_b": 100, "orders_with_both": 40, "orders_with_products": 1000,
         "products_in_orders_with_a": 200, "order_product_slots": 1400, "period_days": 365},
    ])
    out = ex.cross_sell(pairs, aov=60.0, settings=SETTINGS)
    assert len(out) == 1  # one candidate per pair: the direction worth more
    row = out.iloc[0]
    assert row["target"] == "A -> B"
    assert row["baseline_rate"] == pytest.approx(0.4)           # confidence A -> B
    assert row["comparison_rate"] == pytest.approx(40 / 900)    # B among orders without A
    assert row["effect"] == pytest.approx(0.4 / 0.08)           # lift
    # B is 40 of the 150 other products of A's orders, and 40 of the 1,150 products of the other orders
    p_fisher = stats.fisher_exact([[40, 110], [40, 1110]], alternative="greater")[1]
    assert row["p_value"] == pytest.approx(p_fisher)
    # 60 orders with A but not B a year; 10% of them move to the 40% attach rate; B at 50
    assert row["expected_monthly_revenue_impact"] == pytest.approx(60 / (365 / (365.25 / 12)) * 0.4 * 0.1 * 50)
    assert row["expected_monthly_margin_impact"] == pytest.approx(row["expected_monthly_revenue_impact"] * 0.4)
    assert bool(row["is_significant"])
    assert "A" in row["hypothesis"] and "40.0%" in row["hypothesis"]
    assert row["target_key"] == "product:1->product:2"
    # The test is sized for half the attach rate the estimate claims: of the orders with A, the 60% without B
    # take it at 10% of 40%, so 40% -> 42.4%; sized for 40% -> 41.2%, over the 100 orders with A a year.
    assert row["test_design"] == "two_proportions" and row["test_baseline"] == pytest.approx(0.4)
    assert row["claimed_change"] == pytest.approx(0.6 * 0.4 * 0.1)
    assert row["sized_change"] == pytest.approx(0.012)
    assert row["required_sample_per_arm"] == ex.sample_size_two_proportions(0.4, 0.412, 0.05, 0.8)
    assert row["days_to_significance"] == np.ceil(2 * row["required_sample_per_arm"] / (100 / 365))
    # 42 days of 100/365 orders a day, 5.75 an arm, detect no change from 40% at all
    assert np.isnan(row["detectable_change"])


def test_two_products_with_one_title_are_two_candidates():
    # a relaunched cake stand under a new product id: the same title, two products, each bought with the tray
    pair = {"product_b_id": 9, "product_b_title": "Tray", "product_b_price": 20.0, "orders_with_a": 100,
            "orders_with_b": 80, "orders_with_both": 40, "orders_with_products": 1000,
            "products_in_orders_with_a": 250, "order_product_slots": 1400, "period_days": 365}
    pairs = pd.DataFrame([{**pair, "product_a_id": 1, "product_a_title": "Cakestand"},
                          {**pair, "product_a_id": 2, "product_a_title": "Cakestand"}])
    out = ex.cross_sell(pairs, aov=60.0, settings=SETTINGS)
    assert sorted(out["target_key"]) == ["product:1->product:9", "product:2->product:9"]
    assert list(out["target"]) == ["Cakestand -> Tray"] * 2  # labels; the SQL puts the ids beside shared titles


def test_each_product_keeps_its_strongest_pairs_and_the_correction_counts_every_pair_tested():
    # product 1 is bought with products 2..7, each pair far above chance; the strongest pair of a product
    # is the one with the most revenue at stake (B's price here)
    pairs = pd.DataFrame([
        {"product_a_id": 1, "product_a_title": "A", "product_b_id": b, "product_b_title": f"B{b}",
         "product_b_price": 10.0 * b, "orders_with_a": 100, "orders_with_b": 80, "orders_with_both": 40,
         "orders_with_products": 1000, "products_in_orders_with_a": 250, "order_product_slots": 1400,
         "period_days": 365}
        for b in range(2, 8)
    ])
    out = ex.cross_sell(pairs, aov=60.0, settings=SETTINGS)
    assert sorted(out["target_key"]) == [f"product:1->product:{b}" for b in (5, 6, 7)]
    assert (out["tests_in_family"] == 6).all()
    assert "over 6 pairs tested" in out["hypothesis"].iloc[0]
    wider = ex.cross_sell(pairs, aov=60.0, settings=ex.ExperimentSettings(max_pairs_per_product=10))
    assert len(wider) == 6
    # the same adjusted p-values: the bound chooses what is kept, not what is tested
    assert set(np.round(out["adjusted_p_value"], 15)) <= set(np.round(wider["adjusted_p_value"], 15))


def _funnel_summary(rng, sessions_per_cell: int, effects: dict[tuple[str, str], tuple[float, float, float]]):
    """A fct_funnel_summary-shaped frame simulated from cells of device x channel x user type x landing
    page, every cell converting at the same base rates times the multipliers in `effects`, keyed by
    (breakdown, value) with one multiplier per step."""
    dims = {
        "device_category": ["desktop", "mobile", "tablet"],
        "channel_group": ["Direct", "Email", "Organic Search", "Paid Search", "Paid Social", "Referral"],
        "user_type": ["new", "returning"],
        "landing_page": ["/", "/a", "/b", "/c", "/d", "/e", "/f", "/g"],
    }
    grid = pd.MultiIndex.from_product(dims.values(), names=dims.keys()).to_frame(index=False)
    base = np.array([0.08, 0.45, 0.55])
    mult = np.ones((len(grid), 3))
    for (breakdown, value), m in effects.items():
        mult[grid[breakdown].to_numpy() == value] *= np.asarray(m)
    n = rng.poisson(sessions_per_cell, len(grid))
    atc = rng.binomial(n, base[0] * mult[:, 0])
    bc = rng.binomial(atc, base[1] * mult[:, 1])
    pur = rng.binomial(bc, base[2] * mult[:, 2])
    grid["session"], grid["add_to_cart"], grid["begin_checkout"], grid["purchase"] = n, atc, bc, pur
    rows = []
    for breakdown in ["all", *dims]:
        groups = grid.assign(all="all sessions").groupby(breakdown)
        for value, g in groups:
            counts = [int(g[s].sum()) for s in ("session", "add_to_cart", "begin_checkout", "purchase")]
            for i, step in enumerate(("session", "add_to_cart", "begin_checkout", "purchase")):
                rows.append({"breakdown": breakdown, "breakdown_value": value, "step": step,
                             "step_sessions": counts[i], "previous_step_sessions": counts[i - 1] if i else None,
                             "first_session_date": "2025-01-01", "last_session_date": "2025-12-31"})
    return pd.DataFrame(rows)


def _significant(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["is_significant"].astype(bool)]


@pytest.mark.parametrize("gap", [0.0, 0.1])
def test_funnels_without_effects_rarely_yield_a_significant_page_or_step(gap):
    """Across simulated stores where nothing differs, the share with any significant candidate of a family
    stays under alpha (Benjamini-Hochberg controls the family-wise error under the complete null), and
    with the default relevant gap it is about nil. Without the adjustment most stores would show one."""
    rng = np.random.default_rng(99)
    settings = ex.ExperimentSettings(minimum_relevant_gap=gap, landing_page_min_sessions=100)
    runs, pages, steps, unadjusted = 300, 0, 0, 0
    for _ in range(runs):
        summary = _funnel_summary(rng, 120, {})
        page_rows, step_rows = ex.landing_pages(summary, 80.0, settings), ex.funnel_steps(summary, 80.0, settings)
        pages += int(len(_significant(page_rows)) > 0)
        steps += int(len(_significant(step_rows)) > 0)
        unadjusted += int((pd.concat([page_rows, step_rows])["p_value"] < 0.05).any())
    limit = 0.08 if gap == 0 else 0.01  # alpha plus two standard errors of a share of 300 runs
    assert pages / runs <= limit and steps / runs <= limit
    if gap == 0:
        assert unadjusted / runs > 0.5


def test_planted_page_and_step_are_found_and_ranked_first_of_their_family():
    rng = np.random.default_rng(5)
    planted = {("landing_page", "/c"): (0.4, 1, 1), ("device_category", "mobile"): (1, 1, 0.5)}
    summary = _funnel_summary(rng, 120, planted)
    pages = ex.landing_pages(summary, 80.0, SETTINGS)
    assert list(_significant(pages)["target"]) == ["/c"]
    steps = ex.funnel_steps(summary, 80.0, SETTINGS)
    assert list(_significant(steps)["target"]) == ["device_category = mobile: purchase"]
    mobile = steps.set_index("target").loc["device_category = mobile: purchase"]
    # revenue at stake: monthly sessions reaching the step x gap to the rest x AOV (purchase is the last step)
    assert mobile["expected_monthly_revenue_impact"] == pytest.approx(
        mobile["observations"] / 365 * (365.25 / 12) * (mobile["comparison_rate"] - mobile["baseline_rate"]) * 80.0)
    assert mobile["days_to_significance"] == np.ceil(2 * mobile["required_sample_per_arm"] / mobile["daily_traffic"])
    # sized for half the way to the rest of the site's rate, the change the estimate claims
    rate, rest = mobile["baseline_rate"], mobile["comparison_rate"]
    assert mobile["claimed_change"] == pytest.approx(rest - rate)
    assert mobile["required_sample_per_arm"] == ex.sample_size_two_proportions(rate, (rate + rest) / 2, 0.05, 0.8)
    per_arm = mobile["daily_traffic"] * 42 / 2
    assert ex.sample_size_two_proportions(rate, rate + mobile["detectable_change"], 0.05, 0.8) <= per_arm
    page = pages.set_index("target").loc["/c"]
    # the page is sized for half its gap to the median page, the change its revenue estimate assumes
    by_page = summary[summary["breakdown"] == "landing_page"].pivot(index="breakdown_value", columns="step",
                                                                    values="step_sessions")
    median = float((by_page["add_to_cart"] / by_page["session"]).median())
    assert page["claimed_change"] == pytest.approx(median - page["baseline_rate"])
    assert page["sized_change"] == pytest.approx(page["claimed_change"] / 2)


def test_a_step_the_store_does_not_send_gets_no_test_and_the_next_step_is_compared_with_the_one_before():
    rng = np.random.default_rng(5)
    summary = _funnel_summary(rng, 120, {("device_category", "mobile"): (1, 1, 0.5)})
    # fct_funnel_summary of a store without begin_checkout events: the step has no sessions, and purchase is
    # compared with add_to_cart
    carts = summary[summary["step"] == "add_to_cart"].set_index(["breakdown", "breakdown_value"])["step_sessions"]
    checkout, purchase = summary["step"] == "begin_checkout", summary["step"] == "purchase"
    summary.loc[checkout, "step_sessions"] = None
    keys = pd.MultiIndex.from_frame(summary.loc[purchase, ["breakdown", "breakdown_value"]])
    summary.loc[purchase, "previous_step_sessions"] = carts.reindex(keys).to_numpy()
    steps = ex.funnel_steps(summary, 80.0, SETTINGS)
    assert not steps["target"].str.endswith(": begin_checkout").any()
    assert list(_significant(steps)["target"]) == ["device_category = mobile: purchase"]
    mobile = steps.set_index("target").loc["device_category = mobile: purchase"]
    # purchase is the last step: at stake is the add-to-cart sessions x the gap x AOV
    mobile_carts = carts.loc[("device_category", "mobile")]
    assert mobile["observations"] == mobile_carts
    assert mobile["expected_monthly_revenue_impact"] == pytest.approx(
        mobile_carts / 365 * (365.25 / 12) * (mobile["comparison_rate"] - mobile["baseline_rate"]) * 80.0)
    # the landing-page test needs only add_to_cart and purchase: it still runs
    assert not ex.landing_pages(summary, 80.0, SETTINGS).empty


def test_a_shortfall_inside_the_relevant_gap_is_not_significant_however_large_the_sample():
    summary = _funnel_summary(np.random.default_rng(8), 4000, {("landing_page", "/c"): (0.95, 1, 1)})
    assert _significant(ex.landing_pages(summary, 80.0, SETTINGS)).empty
    assert not _significant(ex.landing_pages(summary, 80.0, ex.ExperimentSettings(minimum_relevant_gap=0))).empty


# --------------------------------------------------------------------------------------------------
# the build on the default mock store and on one without planted opportunities


@pytest.fixture(scope="module")
def null_store(tmp_path_factory):
    return build_generated_store(tmp_path_factory.mktemp("null"), GeneratorConfig(planted=False))


@pytest.mark.dbt
def test_the_planted_opportunities_have_significant_evidence_and_the_page_and_step_lead(planted_store):
    _, shortlist = planted_store
    ranked = shortlist.set_index("target")
    anchor, addon = PAIR_ANCHOR.title, PAIR_ADDON.title
    planted = [f"device_category = {LEAKY_DEVICE}: purchase", LEAKY_LANDING_PAGE]
    pair = [t for t in ranked.index if set(t.split(" -> ")) == {anchor, addon}]
    assert len(pair) == 1, ranked.index.tolist()
    for target in [*planted, pair[0]]:
        assert bool(ranked.loc[target, "is_significant"]) and ranked.loc[target, "adjusted_p_value"] < 0.001
        assert ranked.loc[target, "expected_monthly_revenue_impact"] > 0 and ranked.loc[target, "confidence"] > 0.9
    assert ranked.loc[planted[0], "experiment_type"] == "funnel_step"
    assert ranked.loc[planted[1], "experiment_type"] == "landing_page"
    assert ranked.loc[pair[0], "experiment_type"] == "cross_sell"
    # The planted step and page lead the list, each with a test that fits in the planned 42 days.
    assert set(ranked.loc[planted, "rank"]) <= {1, 2, 3}
    assert (ranked.loc[planted, "days_to_significance"] <= 42).all()
    # The planted pair is real but its test cannot be run: most orders with the anchor already hold the
    # add-on, so the claimed rise of its attach rate is small, and few orders a day hold the anchor. A
    # growth team would not pick it, and the list says why: its time factor.
    row = ranked.loc[pair[0]]
    assert row["days_to_significance"] > 10 * 42 and row["time_factor"] < 0.1
    assert row["baseline_rate"] > 0.8 and not row["detectable_change"] <= row["claimed_change"]


@pytest.mark.dbt
def test_a_store_without_planted_effects_yields_no_significant_candidate(null_store):
    _, shortlist = null_store
    tested = shortlist[shortlist["experiment_type"].isin(
        ["cross_sell", "landing_page", "funnel_step", "upsell_substitute"])]
    assert len(tested) >= 10  # the candidates were there and tested...
    assert _significant(tested).empty, _significant(tested)[["target", "adjusted_p_value"]]  # ...and none held up
    assert (shortlist.loc[shortlist["experiment_type"] != "upsell_free_shipping", "confidence"] == 0).all()


@pytest.mark.dbt
def test_shortlist_rows_are_scored_by_the_documented_formula(planted_store):
    _, s = planted_store
    assert list(s["rank"]) == list(range(1, len(s) + 1))
    assert s["priority_score"].is_monotonic_decreasing
    # evidence: a significant test or a descriptive figure; every candidate with it ranks above the rest
    descriptive = s["adjusted_p_value"].isna()
    assert (s["has_evidence"] == (s["is_significant"] | descriptive)).all()
    assert s["has_evidence"].is_monotonic_decreasing and s["has_evidence"].any() and not s["has_evidence"].all()
    time_factor = np.minimum(1.0, 42 / s["days_to_significance"].astype(float))
    expected = s["expected_monthly_margin_impact"].astype(float) * s["confidence"] * time_factor / s["effort_days"]
    np.testing.assert_allclose(s["priority_score"], expected, rtol=1e-6, atol=0.01)
    for row in s.itertuples():
        digest = hashlib.md5(f"{row.experiment_type}|{row.target_key}".encode()).hexdigest()[:12]
        assert row.experiment_id == f"exp_{digest}"
    assert s["effort_days"].notna().all() and s["hypothesis"].str.len().gt(40).all()


@pytest.mark.dbt
def test_experiment_ids_are_stable_across_stores(planted_store, null_store):
    both = planted_store[1].merge(null_store[1], on=["experiment_type", "target"], suffixes=("_a", "_b"))
    assert len(both) >= 3 and f"device_category = {LEAKY_DEVICE}: purchase" in set(both["target"])
    assert (both["experiment_id_a"] == both["experiment_id_b"]).all()


@pytest.mark.dbt
def test_shortlist_command_prints_the_ranked_table(planted_store):
    warehouse, shortlist = planted_store
    runner = CliRunner()
    result = runner.invoke(main, ["shortlist", "--warehouse", str(warehouse), "--top", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["rank", "type", "target"]
    ranked = [line for line in lines[2:] if line.strip() and line.split()[0].isdigit()][:3]
    assert [int(line.split()[0]) for line in ranked] == [1, 2, 3]
    assert shortlist.loc[0, "experiment_id"] in result.output  # the hypotheses follow with their ids

    # the top list holds only candidates with evidence, however many are asked for; --all holds every one
    listed = runner.invoke(main, ["shortlist", "--warehouse", str(warehouse), "--top", str(len(shortlist)),
                                  "--no-hypotheses"]).output
    ranks = [int(line.split()[0]) for line in listed.splitlines()[2:] if line[:4].strip()]
    assert ranks == list(range(1, int(shortlist["has_evidence"].sum()) + 1))

    result = runner.invoke(main, ["shortlist", "--warehouse", str(warehouse), "--type", "landing_page", "--all",
                                  "--no-hypotheses"])
    assert result.exit_code == 0, result.output
    # an experiment's first line has its rank; a cell too wide for the terminal continues on lines without
    rows = [line for line in result.output.splitlines()[2:] if line[:4].strip()]
    assert len(rows) == int((shortlist["experiment_type"] == "landing_page").sum())
    assert all(" landing_page " in line for line in rows)

    bad = runner.invoke(main, ["shortlist", "--warehouse", str(warehouse), "--type", "upsale"])
    assert bad.exit_code == 2 and "upsale" in bad.output
    missing = runner.invoke(main, ["shortlist", "--warehouse", str(warehouse.parent / "none.duckdb")])
    assert missing.exit_code == 1 and "no warehouse at" in missing.output


def _candidate(rank: int, experiment_type: str, target: str, **overrides) -> dict:
    return {"rank": rank, "experiment_id": f"e{rank}", "experiment_type": experiment_type, "target": target,
            "hypothesis": "Test it.", "is_significant": True, "adjusted_p_value": 0.0004,
            "expected_monthly_revenue_impact": 1234.0, "confidence": 0.8, "effort_days": 2.0,
            "days_to_significance": 21, "priority_score": 12.5} | overrides


def _cell_lines(text: str, column: int) -> list[list[str]]:
    """Per experiment, the text of one column on each of its lines (the columns are where the rule's dashes are)."""
    lines = text.splitlines()
    span = list(re.finditer(r"-+", lines[1]))[column].span()
    rows: list[list[str]] = []
    for line in lines[2:]:
        if line[:4].strip():  # a rank: the first line of the next experiment
            rows.append([])
        rows[-1].append(line[span[0]:span[1]].strip())
    return [[part for part in parts if part] for parts in rows]


def test_long_cells_wrap_within_their_column_and_the_table_keeps_to_the_width():
    social = "channel_group = Paid Social: add_to_cart"
    page = "landing_page = /collections/summer-sale/products/an-exceptionally-long-handle-for-a-tee"
    frame = pd.DataFrame([_candidate(1, "funnel_step", social),
                          _candidate(2, "landing_page", page, is_significant=False, adjusted_p_value=0.3),
                          _candidate(3, "cross_sell", "Socks -> Shoes")])
    for width in (100, 120):
        text = format_shortlist(frame, width=width, hypotheses=False)
        assert "~" not in text
        assert max(len(line) for line in text.splitlines()) <= width, text
        targets = _cell_lines(text, 2)
        # broken between words, every word whole and in order; a word longer than the column is split, and
        # none of its characters left out
        assert " ".join(targets[0]) == social and len(targets[0]) > 1, text
        assert "".join(targets[1]).replace(" ", "") == page.replace(" ", "") and len(targets[1]) > 1, text
        assert targets[2] == ["Socks -> Shoes"]
        # the other cells are whole too, on the experiment's first line or below it
        assert _cell_lines(text, 7)[1] in (["q=0.300 (n.s.)"], ["q=0.300", "(n.s.)"]), text
        assert [parts[0] for parts in _cell_lines(text, 3)] == ["1,234"] * 3
    # narrower than the numbers need: wider than asked, words broken, but still nothing cut
    text = format_shortlist(frame, width=40, hypotheses=False)
    for parts, target in zip(_cell_lines(text, 2), (social, page, "Socks -> Shoes"), strict=True):
        assert "".join(parts).replace(" ", "") == target.replace(" ", ""), text


def test_upsells_are_sized_for_their_claims_the_next_order_as_a_difference_of_means():
    # 2,000 valid orders over 100 days (AOV 60, standard deviation 40); 500 shipped free, 200 ended on
    # average 8 short of it; 300 first orders; 80 of 120 repeat customers spent on average 12 more the second time.
    values = pd.DataFrame([{"valid_orders": 2000, "period_days": 100, "average_order_value": 60.0,
                            "order_value_stddev": 40.0, "orders_just_under_threshold": 200,
                            "orders_over_threshold": 500,
                            "average_gap_to_threshold": 8.0, "larger_second_orders": 80, "smaller_second_orders": 40,
                            "average_second_order_change": 12.0, "first_orders": 300}])
    no_substitutes = pd.DataFrame(columns=["orders_with_products", "orders_with_both", "cheaper_orders",
                                           "dearer_orders"])
    out = ex.upsells(no_substitutes, values, SETTINGS).set_index("experiment_type")
    bar, offer = out.loc["upsell_free_shipping"], out.loc["upsell_second_order"]
    # the bar: a tenth of the 10% of orders just under the threshold reach it, so 25% -> 26% ship free
    assert bar["test_design"] == "two_proportions" and offer["test_design"] == "difference_of_means"
    assert bar["test_baseline"] == 0.25 and bar["claimed_change"] == pytest.approx(0.1 * 0.1)
    assert bar["required_sample_per_arm"] == ex.sample_size_two_proportions(0.25, 0.255, 0.05, 0.8)
    assert bar["days_to_significance"] == np.ceil(2 * bar["required_sample_per_arm"] / 20.0)
    # 42 days of 20 orders a day: 420 an arm
    assert bar["detectable_change"] == pytest.approx(ex.detectable_rate(0.25, 420.0, 0.05, 0.8) - 0.25)
    assert offer["detectable_change"] == pytest.approx(ex.detectable_mean_difference(40.0, 63.0, 0.05, 0.8))
    # 5% of the 12 a second order grows by: 0.6 more, over 3 first orders a day
    assert offer["claimed_change"] == pytest.approx(0.6) and offer["sized_change"] == pytest.approx(0.3)
    assert offer["required_sample_per_arm"] == ex.sample_size_two_means(0.3, 40.0, 0.05, 0.8)
    assert offer["days_to_significance"] == np.ceil(2 * offer["required_sample_per_arm"] / 3.0)


def test_a_store_too_small_for_any_candidate_gives_an_empty_table_not_an_error():
    summary = _funnel_summary(np.random.default_rng(1), 2, {})
    summary.loc[summary["step"] != "session", "step_sessions"] = 0
    empty_pairs = pd.DataFrame(columns=["product_a_id", "product_b_id", "orders_with_products", "orders_with_both",
                                        "orders_with_a", "orders_with_b", "period_days"])
    empty_substitutes = pd.DataFrame(columns=["orders_with_products", "orders_with_both", "cheaper_orders",
                                              "dearer_orders"])
    no_orders = pd.DataFrame([{"valid_orders": 0, "period_days": None, "average_order_value": None,
                               "orders_just_under_threshold": None, "average_gap_to_threshold": None,
                               "larger_second_orders": None, "smaller_second_orders": None,
                               "average_second_order_change": None, "first_orders": 0}])
    table = ex.candidates(empty_pairs, empty_substitutes, no_orders, summary, SETTINGS)
    assert table.empty and list(table.columns) == ex.COLUMNS


# --------------------------------------------------------------------------------------------------
# degenerate inputs the contract allows: no candidate of the kind, never a crash

STEP_NAMES = ("session", "add_to_cart", "begin_checkout", "purchase")


def _summary_from_duckdb(groups: dict[tuple[str, str], tuple[int, int, int, int]]) -> pd.DataFrame:
    """fct_funnel_summary rows for these (breakdown, value) groups and the site (their sum per breakdown
    is taken from the device groups), read back through DuckDB as the dbt model reads it: text columns
    come as pandas' string dtype, on which arithmetic with an empty result fails as text."""
    devices = [counts for (breakdown, _), counts in groups.items() if breakdown == "device_category"]
    site = tuple(int(sum(c[i] for c in devices)) for i in range(4))
    rows = [(breakdown, value, step, counts[i], counts[i - 1] if i else None)
            for (breakdown, value), counts in {("all", "all sessions"): site, **groups}.items()
            for i, step in enumerate(STEP_NAMES)]
    with duckdb.connect() as con:
        con.execute("create table summary (breakdown varchar, breakdown_value varchar, step varchar, "
                    "step_sessions bigint, previous_step_sessions bigint)")
        con.executemany("insert into summary values (?, ?, ?, ?, ?)", rows)
        return ordered_df(con.sql("select *, date '2025-01-01' as first_session_date, "
                                  "date '2025-03-31' as last_session_date from summary"))


def _assert_no_candidates(frame: pd.DataFrame) -> None:
    assert frame.empty and list(frame.columns) == ex.COLUMNS
    assert str(frame["expected_monthly_revenue_impact"].dtype) == "float64"


def test_no_group_converting_below_the_rest_gives_no_funnel_or_page_candidate_not_a_type_error():
    """The crash seen on real data (TypeError: Can only string multiply by an integer): every group converts
    like the rest of the site, so no group is left to test and the impact was computed on empty text."""
    same = (1000, 100, 50, 25)
    summary = _summary_from_duckdb({("device_category", "desktop"): same, ("device_category", "mobile"): same,
                                    ("user_type", "new"): same, ("user_type", "returning"): same,
                                    ("landing_page", "/a"): same, ("landing_page", "/b"): same})
    assert str(summary["step"].dtype) in ("str", "string")
    settings = ex.ExperimentSettings(landing_page_min_sessions=1)
    _assert_no_candidates(ex.funnel_steps(summary, 80.0, settings))
    _assert_no_candidates(ex.landing_pages(summary, 80.0, settings))


def test_a_breakdown_with_a_single_group_has_no_rest_of_the_site_to_compare_with():
    summary = _summary_from_duckdb({("device_category", "desktop"): (1000, 100, 50, 25),
                                    ("landing_page", "/"): (2000, 200, 100, 50)})
    settings = ex.ExperimentSettings(landing_page_min_sessions=1)
    _assert_no_candidates(ex.funnel_steps(summary, 80.0, settings))
    _assert_no_candidates(ex.landing_pages(summary, 80.0, settings))


def test_a_site_funnel_with_a_step_no_session_reached_the_step_before_of_gives_no_step_candidate():
    """Counts that are not a funnel (purchases without a checkout before them): no step rate, no division by 0."""
    summary = _summary_from_duckdb({("device_category", "desktop"): (1000, 100, 0, 25),
                                    ("device_category", "mobile"): (1000, 100, 0, 5)})
    summary.loc[summary["step"] == "begin_checkout", "step_sessions"] = 1  # tracked, so purchase follows it
    summary.loc[summary["step"] == "purchase", "previous_step_sessions"] = 0
    _assert_no_candidates(ex.funnel_steps(summary, 80.0, SETTINGS))


def test_no_pair_above_chance_no_substitute_and_no_order_facts_give_no_candidates():
    pairs = pd.DataFrame([{"product_a_id": 1, "product_a_title": "A", "product_b_id": 2, "product_b_title": "B",
                           "product_b_price": 5.0, "orders_with_a": 100, "orders_with_b": 100,
                           "orders_with_both": 10, "orders_with_products": 1000, "products_in_orders_with_a": 200,
                           "order_product_slots": 1100, "period_days": 90}])
    # 10 together is what chance gives: B is 100 of the 1,000 products outside A, and A's orders hold 100 more
    _assert_no_candidates(ex.cross_sell(pairs, 50.0, SETTINGS))
    substitutes = pd.DataFrame([{"cheaper_product_id": 1, "cheaper_product_title": "Tee", "dearer_product_id": 2,
                                 "dearer_product_title": "Tee+", "product_type": "tee", "cheaper_price": 10.0,
                                 "dearer_price": 15.0, "cheaper_orders": 100, "dearer_orders": 100,
                                 "orders_with_both": 10, "orders_with_products": 1000,
                                 "products_in_orders_with_cheaper": 200, "order_product_slots": 1100,
                                 "period_days": 90}])
    no_upsell = pd.DataFrame([{"valid_orders": 1000, "period_days": 90, "average_order_value": 50.0,
                               "orders_just_under_threshold": 0, "average_gap_to_threshold": None,
                               "larger_second_orders": 0, "smaller_second_orders": 0,
                               "average_second_order_change": None, "first_orders": 900}])
    _assert_no_candidates(ex.upsells(substitutes, no_upsell, SETTINGS))  # bought together as often as chance
    _assert_no_candidates(ex.upsells(substitutes, no_upsell.iloc[:0], SETTINGS))
    empty_summary = _summary_from_duckdb({}).iloc[:0]
    table = ex.candidates(pairs, substitutes, no_upsell.iloc[:0], empty_summary, SETTINGS)
    _assert_no_candidates(table)
