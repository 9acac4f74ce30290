"""Experiment candidates from the marts: cross-sell, upsell, landing-page and funnel-step tests, each with
its statistical evidence, the revenue at stake, and the sample size and days a test would need.

Every family of candidates is tested at once, so the p-values are adjusted with Benjamini-Hochberg (false
discovery rate) within the family: with twenty pages or two hundred product pairs, some would look
significant by chance. A candidate counts as significant when its adjusted p-value is below alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class ExperimentSettings:
    alpha: float = 0.05
    power: float = 0.8
    # A test is sized to detect this share of the change its candidate's revenue estimate assumes: the
    # estimate may be optimistic, and a test sized for all of it would miss a smaller real effect.
    sized_effect_share: float = 0.5
    max_test_days: int = 42
    gross_margin: float = 0.4
    cross_sell_uplift_share: float = 0.10
    upsell_upgrade_share: float = 0.05
    threshold_conversion_share: float = 0.10
    landing_page_min_sessions: int = 500
    max_substitute_lift: float = 0.25
    descriptive_confidence: float = 0.3
    # Of each product's cross-sell (and each cheaper product's upsell) pairs, the ones kept as candidates:
    # a catalog of thousands has pairs by the million, and one product needs a handful of tests at most.
    max_pairs_per_product: int = 3
    # A page or step counts as an opportunity only when its rate is significantly more than this
    # fraction below the rest of the site: a 3% shortfall, however certain, is not worth a test.
    minimum_relevant_gap: float = 0.10

    @classmethod
    def from_config(cls, get) -> ExperimentSettings:
        defaults = cls()
        values = {}
        for name, var in [
            ("alpha", "experiment_alpha"), ("power", "experiment_power"),
            ("sized_effect_share", "experiment_sized_effect_share"), ("max_test_days", "experiment_max_test_days"),
            ("gross_margin", "experiment_gross_margin"), ("cross_sell_uplift_share", "cross_sell_uplift_share"),
            ("upsell_upgrade_share", "upsell_upgrade_share"),
            ("threshold_conversion_share", "free_shipping_conversion_share"),
            ("landing_page_min_sessions", "landing_page_min_sessions"),
            ("max_substitute_lift", "upsell_max_substitute_lift"),
            ("descriptive_confidence", "experiment_descriptive_confidence"),
            ("minimum_relevant_gap", "experiment_minimum_relevant_gap"),
            ("max_pairs_per_product", "cross_sell_max_pairs_per_product"),
        ]:
            raw = get(var)
            kind = type(getattr(defaults, name))
            values[name] = kind(float(raw)) if raw not in (None, "") else getattr(defaults, name)
        return cls(**values)


# --------------------------------------------------------------------------------------------------
# statistics


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order."""
    p = np.asarray(p_values, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def co_purchase_p_values(both, orders_with_a, slots_with_a, with_b, slots, alternative: str) -> np.ndarray:
    """Whether B is in A's orders more (or less) often than chance, chance knowing the baskets' sizes. Under
    independence of orders' products, a product of A's orders other than A is B as often as any product of
    the orders without A is: the test compares B's share of the `slots_with_a - orders_with_a` other products
    of A's orders with its share of the products of the other orders (`slots` being every order's distinct
    products summed), by Fisher's exact test of that 2x2 table. Counting orders instead (B's share of orders
    with A against all orders) takes small baskets for avoidance: with 1.45 products an order two
    independently drawn products meet in about half the orders chance by order counts gives."""
    a = np.asarray(orders_with_a, dtype=np.int64)
    return fisher_exact_one_sided(both, np.asarray(slots_with_a, dtype=np.int64) - a, with_b,
                                  np.asarray(slots, dtype=np.int64) - a, alternative)


def fisher_exact_one_sided(both, with_a, with_b, total, alternative: str) -> np.ndarray:
    """Fisher's exact test of the 2x2 table of orders (with A, with B, with both, all), one-sided, for
    many tables at once: under independence the orders with both follow the hypergeometric law of
    `with_b` draws from `total` orders of which `with_a` hold A, so the p-value is P(X >= both)
    ("greater": bought together more than chance) or P(X <= both) ("less"), what scipy's fisher_exact
    gives table by table."""
    x, a, b, n = (np.asarray(v, dtype=np.int64) for v in (both, with_a, with_b, total))
    if alternative == "greater":
        return stats.hypergeom.sf(x - 1, n, a, b)
    if alternative == "less":
        return stats.hypergeom.cdf(x, n, a, b)
    raise ValueError(f"alternative {alternative!r}: greater or less")


def top_per_group(frame: pd.DataFrame, group: str, by: list[str], keep: int) -> pd.DataFrame:
    """The `keep` rows of each group that come first by the columns `by`, each descending (ties by row
    order), in the frame's order."""
    ranked = frame.sort_values(by, ascending=False, kind="stable")
    return ranked[ranked.groupby(group, sort=False).cumcount() < keep].sort_index()


def two_proportion_test(x1, n1, x2, n2, alpha: float = 0.05, ratio: float = 1.0):
    """Is rate 1 below `ratio` times rate 2? One-sided score test of H0: p1 >= ratio * p2 (Farrington and
    Manning, 1990; with ratio = 1 it is the pooled two-proportion z-test, the square root of Pearson's
    chi-square). Returns (z, p_value, gap, gap_ci_lower, gap_ci_upper), gap = rate1 - rate2 with its
    unpooled (Wald) two-sided 1-alpha interval."""
    x1, n1, x2, n2 = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    p1, p2 = x1 / n1, x2 / n2
    # Maximum-likelihood rates under the null's boundary p1 = ratio * p2: the smaller root of
    # ratio*N*p^2 - (ratio*n1 + x1 + n2 + ratio*x2)*p + (x1 + x2) = 0 (p = pooled rate when ratio = 1).
    a = ratio * (n1 + n2)
    b = ratio * n1 + x1 + n2 + ratio * x2
    c = x1 + x2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = (b - np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))) / (2 * a)
        r1 = ratio * r2
        z = (p1 - ratio * p2) / np.sqrt(r1 * (1 - r1) / n1 + ratio**2 * r2 * (1 - r2) / n2)
        half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return z, stats.norm.cdf(z), p1 - p2, p1 - p2 - half, p1 - p2 + half


def sample_size_two_proportions(p1, p2, alpha: float, power: float) -> np.ndarray:
    """Units per arm for a two-sided two-proportion z-test to detect the change p1 -> p2 (normal
    approximation, no continuity correction); infinite when the rates are equal."""
    p1, p2 = np.asarray(p1, dtype=float), np.minimum(np.asarray(p2, dtype=float), 0.999999)
    p_bar = (p1 + p2) / 2
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = z_a * np.sqrt(2 * p_bar * (1 - p_bar)) + z_b * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        n = spread**2 / (p2 - p1) ** 2
    return np.ceil(n)


def sample_size_two_means(difference, sd, alpha: float, power: float) -> np.ndarray:
    """Units per arm for a two-sided test of two means to detect `difference` when each unit varies with
    standard deviation `sd` (normal approximation): 2 (z_a + z_b)^2 sd^2 / difference^2."""
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.ceil(2 * (z_a + z_b) ** 2 * np.asarray(sd, dtype=float) ** 2 / np.asarray(difference, float) ** 2)


def detectable_rate(p1, per_arm, alpha: float, power: float) -> np.ndarray:
    """The smallest rate above p1 that a two-proportion test with `per_arm` units an arm detects (the
    inverse of sample_size_two_proportions, by bisection); NaN when not even a rate of 1 would be."""
    p1, per_arm = np.broadcast_arrays(np.asarray(p1, dtype=float), np.asarray(per_arm, dtype=float))
    low, high = p1.copy(), np.full(p1.shape, 0.999999)
    reachable = sample_size_two_proportions(p1, high, alpha, power) <= per_arm
    for _ in range(60):
        middle = (low + high) / 2
        enough = sample_size_two_proportions(p1, middle, alpha, power) <= per_arm
        high, low = np.where(enough, middle, high), np.where(enough, low, middle)
    return np.where(reachable & np.isfinite(p1), high, np.nan)


def detectable_mean_difference(sd, per_arm, alpha: float, power: float) -> np.ndarray:
    """The smallest difference of means a test with `per_arm` units an arm detects (the inverse of
    sample_size_two_means)."""
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (z_a + z_b) * np.asarray(sd, dtype=float) * np.sqrt(2 / np.asarray(per_arm, dtype=float))


def _confidence(adjusted_p, significant, observations, required, settings: ExperimentSettings) -> np.ndarray:
    """How sure the opportunity is real, in [0, 1], from its evidence alone (how long a test would take is
    the time factor's part of the score, not this one's). A significant result runs from 0.5 (q just under
    alpha) to 1 (q = 0): significance is the evidence, and a q of 0.049 is not twenty times weaker than one of
    0.01; the sample was large enough to show it. One that is not significant has 0. Descriptive evidence (no
    test) has descriptive_confidence times the adequacy of the sample behind it (observations / the sample
    one test arm needs, at most 1), its only gauge."""
    q = np.asarray(adjusted_p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        adequacy = np.minimum(np.asarray(observations, dtype=float) / np.asarray(required, dtype=float), 1.0)
    descriptive = settings.descriptive_confidence * np.nan_to_num(adequacy, nan=0.0)
    evidence = np.where(np.isnan(q), descriptive,
                        np.where(np.asarray(significant, dtype=bool), 1 - q / (2 * settings.alpha), 0.0))
    return np.clip(evidence, 0.0, 1.0)


COLUMNS = [
    "experiment_type", "target", "target_key", "hypothesis", "evidence_metric", "baseline_rate", "comparison_rate",
    "effect", "effect_ci_lower", "effect_ci_upper", "p_value", "adjusted_p_value", "is_significant",
    "tests_in_family", "observations", "daily_traffic", "test_design", "test_baseline", "claimed_change",
    "sized_change", "required_sample_per_arm", "days_to_significance", "detectable_change",
    "expected_monthly_revenue_impact", "expected_monthly_margin_impact", "confidence",
]

PROPORTIONS, MEANS = "two_proportions", "difference_of_means"


def _finish(frame: pd.DataFrame, baseline, claimed, traffic_per_day, settings: ExperimentSettings,
            sd=None) -> pd.DataFrame:
    """Size each candidate's test for the change its revenue estimate assumes, `baseline` -> `claimed` in
    the test's metric (a rate per unit of traffic, or with `sd` a mean per unit that varies with that
    standard deviation), or rather settings.sized_effect_share of it; add the days that takes at
    `traffic_per_day` units split over two arms, the smallest change a test of max_test_days detects, the
    margin and the confidence."""
    baseline, claimed = (np.asarray(v, dtype=float) for v in (baseline, claimed))
    traffic = np.asarray(traffic_per_day, dtype=float)
    sized = baseline + settings.sized_effect_share * (claimed - baseline)
    per_arm_in_max = traffic * settings.max_test_days / 2
    alpha, power = settings.alpha, settings.power
    if sd is None:
        frame["test_design"] = PROPORTIONS
        frame["required_sample_per_arm"] = sample_size_two_proportions(baseline, sized, alpha, power)
        frame["detectable_change"] = detectable_rate(baseline, per_arm_in_max, alpha, power) - baseline
    else:
        frame["test_design"] = MEANS
        frame["required_sample_per_arm"] = sample_size_two_means(sized - baseline, sd, alpha, power)
        frame["detectable_change"] = detectable_mean_difference(sd, per_arm_in_max, alpha, power)
    frame["test_baseline"], frame["claimed_change"] = baseline, claimed - baseline
    frame["sized_change"] = sized - baseline
    frame["daily_traffic"] = traffic
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["days_to_significance"] = np.ceil(2 * frame["required_sample_per_arm"] / frame["daily_traffic"])
    frame["expected_monthly_margin_impact"] = frame["expected_monthly_revenue_impact"] * settings.gross_margin
    frame["confidence"] = _confidence(frame["adjusted_p_value"].to_numpy(dtype=float), frame["is_significant"],
                                      frame["observations"], frame["required_sample_per_arm"], settings)
    return frame[COLUMNS]


# The text columns of COLUMNS; is_significant is a flag and the rest are numbers.
TEXT_COLUMNS = ("experiment_type", "target", "target_key", "hypothesis", "evidence_metric", "test_design")


def _product_pair_key(first: pd.Series, second: pd.Series) -> pd.Series:
    """The identity of a pair of products: their ids, never their titles (two products may share one)."""
    def text(ids: pd.Series) -> pd.Series:
        return ids.astype("int64").astype(str)
    return "product:" + text(first) + "->product:" + text(second)


def _no_candidates() -> pd.DataFrame:
    """A family's result when it has nothing to propose: no rows, every column typed, so that pandas never
    has to guess a type from an empty column (an empty text column arithmetic would meet as text)."""
    return pd.DataFrame({c: pd.Series(dtype="str" if c in TEXT_COLUMNS else "bool" if c == "is_significant"
                                      else "float") for c in COLUMNS})


def _num(value) -> float:
    """A number from a warehouse value; NULL (None, NaN, pd.NA) is 0."""
    return 0.0 if value is None or pd.isna(value) else float(value)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _q(value: float) -> str:
    return "q < 0.001" if value < 0.001 else f"q = {value:.3f}"


# --------------------------------------------------------------------------------------------------
# families


def cross_sell(pairs: pd.DataFrame, aov: float, settings: ExperimentSettings) -> pd.DataFrame:
    """'Show B to buyers of A' for product pairs bought together above chance (one-sided Fisher exact
    test against independence). The pairs tested are those calc_experiment_product_pairs lists (bought
    together in at least var cross_sell_min_orders orders), one test per unordered pair, adjusted over all
    of them; of the two directions of a pair the one with the larger impact is kept, and of each product's
    pairs var cross_sell_max_pairs_per_product: the significant first, then by impact."""
    if pairs.empty:
        return _no_candidates()
    p = pairs.copy()
    n = p["orders_with_products"].astype(float)
    ab, a, b = (p[c].astype(float) for c in ("orders_with_both", "orders_with_a", "orders_with_b"))
    p["confidence_a_to_b"] = ab / a
    p["rate_b_without_a"] = (b - ab) / (n - a)
    p["lift"] = p["confidence_a_to_b"] / (b / n)
    # each direction of a pair tested on its own anchor's baskets; the direction kept carries its p-value
    p["p_value"] = co_purchase_p_values(ab, a, p["products_in_orders_with_a"], b, p["order_product_slots"],
                                        "greater")
    first, second = (p[c].astype("int64").to_numpy() for c in ("product_a_id", "product_b_id"))
    p["pair_low"], p["pair_high"] = np.minimum(first, second), np.maximum(first, second)
    months = p["period_days"].astype(float) / DAYS_PER_MONTH
    without_b_per_month = (a - ab) / months
    extra_orders = without_b_per_month * p["confidence_a_to_b"] * settings.cross_sell_uplift_share
    p["expected_monthly_revenue_impact"] = extra_orders * p["product_b_price"].astype(float)
    p = p.sort_values(["expected_monthly_revenue_impact", "pair_low", "pair_high"], ascending=[False, True, True],
                      kind="stable").drop_duplicates(["pair_low", "pair_high"])
    tests = len(p)
    p["adjusted_p_value"] = benjamini_hochberg(p["p_value"])
    p = p[p["lift"] > 1].assign(significant=lambda f: f["adjusted_p_value"] < settings.alpha)
    p = top_per_group(p, "product_a_id", ["significant", "expected_monthly_revenue_impact"],
                      settings.max_pairs_per_product).copy()
    if p.empty:  # no pair is bought together more than chance
        return _no_candidates()
    share = settings.cross_sell_uplift_share
    out = pd.DataFrame({
        "experiment_type": "cross_sell",
        "target": p["product_a_title"] + " -> " + p["product_b_title"],
        "target_key": _product_pair_key(p["product_a_id"], p["product_b_id"]),
        "hypothesis": _cross_sell_hypotheses(p, tests, share),
        "evidence_metric": "attach rate of B in orders with A vs without A",
        "baseline_rate": p["confidence_a_to_b"],
        "comparison_rate": p["rate_b_without_a"],
        "effect": p["lift"],
        "effect_ci_lower": np.nan,
        "effect_ci_upper": np.nan,
        "p_value": p["p_value"],
        "adjusted_p_value": p["adjusted_p_value"],
        "is_significant": p["adjusted_p_value"] < settings.alpha,
        "tests_in_family": float(tests),
        "observations": p["orders_with_a"].astype(float),
        "expected_monthly_revenue_impact": p["expected_monthly_revenue_impact"],
    })
    # the estimate's claim: of the orders with A, those without B (1 - c) take B at `share` times the attach rate c
    attach = p["confidence_a_to_b"].to_numpy(dtype=float)
    return _finish(out, attach, attach + (1 - attach) * attach * share,
                   p["orders_with_a"].astype(float) / p["period_days"], settings)


def _cross_sell_hypotheses(p: pd.DataFrame, tests: int, share: float) -> list[str]:
    return [
        f"Showing {b_t} to buyers of {a_t} raises its attach rate: {_pct(c)} of orders with {a_t} "
        f"include it against {_pct(r)} of other orders (lift {lift:.1f}x, {_q(q)} over {tests:,} pairs "
        f"tested); moving the orders with {a_t} alone {_pct(share)} of the way to that rate adds about "
        f"{impact:,.0f} a month."
        for a_t, b_t, c, r, lift, q, impact in zip(
            p["product_a_title"], p["product_b_title"], p["confidence_a_to_b"], p["rate_b_without_a"], p["lift"],
            p["adjusted_p_value"], p["expected_monthly_revenue_impact"], strict=True)
    ]


def landing_pages(summary: pd.DataFrame, aov: float, settings: ExperimentSettings) -> pd.DataFrame:
    """Landing pages with enough sessions whose add-to-cart conversion (what a landing page controls, and
    a rate a test can move within weeks, unlike the purchase rate) is below the rest of the site; revenue
    at stake if they converted like the median page: monthly sessions x the gap x the site's
    add-to-cart-to-purchase rate x AOV."""
    pages = summary[summary["breakdown"] == "landing_page"]
    sessions = pages[pages["step"] == "session"].set_index("breakdown_value")["step_sessions"].astype(float)
    carts = pages[pages["step"] == "add_to_cart"].set_index("breakdown_value")["step_sessions"].astype(float)
    site = summary[summary["breakdown"] == "all"].set_index("step")
    if not _has_steps(site, ("session", "add_to_cart", "purchase")):
        return _no_candidates()
    cart_to_purchase = float(site.loc["purchase", "step_sessions"]) / float(site.loc["add_to_cart", "step_sessions"])
    frame = pd.DataFrame({"sessions": sessions, "carts": carts.reindex(sessions.index).fillna(0)})
    frame = frame[frame["sessions"] >= settings.landing_page_min_sessions]
    if frame.empty:
        return _no_candidates()
    days = _period_days(summary)
    rest_n, rest_x = sessions.sum() - frame["sessions"], carts.sum() - frame["carts"]
    z, p_value, gap, low, high = two_proportion_test(frame["carts"], frame["sessions"], rest_x, rest_n,
                                                     settings.alpha, 1 - settings.minimum_relevant_gap)
    frame["rate"] = frame["carts"] / frame["sessions"]
    frame["rest_rate"] = rest_x / rest_n
    frame["p_value"], frame["gap"], frame["low"], frame["high"] = p_value, gap, low, high
    frame["adjusted_p_value"] = benjamini_hochberg(frame["p_value"])
    tests = len(frame)
    median_rate = float(frame["rate"].median())
    frame["impact"] = (frame["sessions"] / days * DAYS_PER_MONTH * np.maximum(median_rate - frame["rate"], 0)
                       * cart_to_purchase * aov)
    frame = frame[frame["rate"] < frame["rest_rate"]]
    if frame.empty:  # no page converts below the rest of the site (or one page is the whole site)
        return _no_candidates()
    gap_share = settings.minimum_relevant_gap
    out = pd.DataFrame({
        "experiment_type": "landing_page",
        "target": frame.index,
        "target_key": "landing_page:" + pd.Series(frame.index, index=frame.index).astype(str),
        "hypothesis": [
            f"Reworking {page} lifts its conversion: {_pct(r)} of its {int(s):,} sessions add to cart against "
            f"{_pct(rr)} on the rest of the site (gap {100 * g:.1f} points, 95% CI {100 * lo:.1f} to "
            f"{100 * hi:.1f}; more than {_pct(gap_share)} below it: {_q(q)}); converting like the median "
            f"page ({_pct(median_rate)}) would bring about {impact:,.0f} a month."
            for page, r, s, rr, g, lo, hi, q, impact in zip(
                frame.index, frame["rate"], frame["sessions"], frame["rest_rate"], frame["gap"], frame["low"],
                frame["high"], frame["adjusted_p_value"], frame["impact"], strict=True)
        ],
        "evidence_metric": "add-to-cart rate of the page's sessions vs rest of site",
        "baseline_rate": frame["rate"],
        "comparison_rate": frame["rest_rate"],
        "effect": frame["gap"],
        "effect_ci_lower": frame["low"],
        "effect_ci_upper": frame["high"],
        "p_value": frame["p_value"],
        "adjusted_p_value": frame["adjusted_p_value"],
        "is_significant": frame["adjusted_p_value"] < settings.alpha,
        "tests_in_family": float(tests),
        "observations": frame["sessions"],
        "expected_monthly_revenue_impact": frame["impact"],
    }).reset_index(drop=True)
    return _finish(out, frame["rate"].to_numpy(), np.maximum(frame["rate"].to_numpy(), median_rate),
                   (frame["sessions"] / days).to_numpy(), settings)


STEPS = ("add_to_cart", "begin_checkout", "purchase")
BREAKDOWNS = ("device_category", "channel_group", "user_type")


def funnel_steps(summary: pd.DataFrame, aov: float, settings: ExperimentSettings) -> pd.DataFrame:
    """For each device, channel and new/returning group, the funnel step whose conversion falls furthest
    below the rest of the site; revenue at stake = the sessions reaching the step x the gap x the site's
    conversion from that step to purchase x AOV. Only the steps the store sends are tested: a step no
    event has (fct_funnel_summary.is_step_tracked false) has no evidence, and the step after it is
    compared with the step before it."""
    days = _period_days(summary)
    site = summary[summary["breakdown"] == "all"].set_index("step")
    steps = [s for s in STEPS if _has_steps(site, (s,))]
    if "purchase" not in steps or not _has_steps(site, ("session", *steps)):
        return _no_candidates()
    reached = pd.to_numeric(site.loc[steps, "previous_step_sessions"], errors="coerce")
    if not (reached > 0).all():
        # A step no session reached the step before of: no rate to compare a group with (a site funnel
        # whose counts are not a funnel, such as upper bounds from reports).
        return _no_candidates()
    rows = _worst_step_per_group(summary, site, steps, settings)
    if rows.empty:  # no group converts below the rest of the site (or each breakdown has one group)
        return _no_candidates()
    site_rate = {s: float(site.loc[s, "step_sessions"]) / float(site.loc[s, "previous_step_sessions"]) for s in steps}
    # The site's conversion from a step to purchase: the product of the rates of the steps after it.
    downstream = {s: float(np.prod([site_rate[later] for later in steps[i + 1:]])) for i, s in enumerate(steps)}
    reached = rows["previous_step_sessions"].astype(float)
    rows["impact"] = (reached / days * DAYS_PER_MONTH * (rows["rest_rate"] - rows["rate"])
                      * rows["step"].map(downstream).astype(float) * aov)
    return _finish(_funnel_step_frame(rows, settings), rows["rate"].to_numpy(), rows["rest_rate"].to_numpy(),
                   (reached / days).to_numpy(), settings)


def _worst_step_per_group(summary: pd.DataFrame, site: pd.DataFrame, steps: list[str],
                          settings: ExperimentSettings) -> pd.DataFrame:
    """Every (group, step) tested against the rest of the site, adjusted over all of them; each group's
    worst step, kept when it converts below the rest (empty when none does)."""
    rows = summary[summary["breakdown"].isin(BREAKDOWNS) & summary["step"].isin(steps)].copy()
    if "funnel_basis" in rows:
        # From GA4 reports the counts past add_to_cart are upper bounds, not counts to test.
        rows = rows[(rows["funnel_basis"] != "ga4_report") | (rows["step"] == "add_to_cart")]
    if rows.empty:
        return rows
    rows["site_x"] = rows["step"].map(lambda s: float(site.loc[s, "step_sessions"]))
    rows["site_n"] = rows["step"].map(lambda s: float(site.loc[s, "previous_step_sessions"]))
    rows = rows[rows["previous_step_sessions"].astype(float) > 0].copy()
    x, n = rows["step_sessions"].astype(float), rows["previous_step_sessions"].astype(float)
    z, p_value, gap, low, high = two_proportion_test(x, n, rows["site_x"] - x, rows["site_n"] - n, settings.alpha,
                                                     1 - settings.minimum_relevant_gap)
    rows["z"], rows["p_value"], rows["gap"], rows["low"], rows["high"] = z, p_value, gap, low, high
    rows["rate"], rows["rest_rate"] = x / n, (rows["site_x"] - x) / (rows["site_n"] - n)
    # every (group, step) was tested: adjust over all of them, then keep each group's worst step
    rows["adjusted_p_value"] = benjamini_hochberg(rows["p_value"].fillna(1.0))
    rows["tests_in_family"] = float(len(rows))
    rows = rows.sort_values("z").drop_duplicates(["breakdown", "breakdown_value"])
    return rows[rows["rate"] < rows["rest_rate"]]


def _funnel_step_frame(rows: pd.DataFrame, settings: ExperimentSettings) -> pd.DataFrame:
    """The funnel-step candidates in the shortlist's columns, each with its hypothesis in words."""
    gap_share = settings.minimum_relevant_gap
    return pd.DataFrame({
        "experiment_type": "funnel_step",
        "target": rows["breakdown"] + " = " + rows["breakdown_value"] + ": " + rows["step"],
        "target_key": "funnel_step:" + rows["breakdown"] + "=" + rows["breakdown_value"] + ":" + rows["step"],
        "hypothesis": [
            f"Fixing the {step.replace('_', ' ')} step for {value} ({breakdown.replace('_', ' ')}) recovers "
            f"sessions: {_pct(r)} of its sessions get through against {_pct(rr)} elsewhere (gap "
            f"{100 * g:.1f} points, 95% CI {100 * lo:.1f} to {100 * hi:.1f}; more than {_pct(gap_share)} below: "
            f"{_q(q)}), worth about {impact:,.0f} a month at the rest of the site's rate."
            for breakdown, value, step, r, rr, g, lo, hi, q, impact in zip(
                rows["breakdown"], rows["breakdown_value"], rows["step"], rows["rate"], rows["rest_rate"],
                rows["gap"], rows["low"], rows["high"], rows["adjusted_p_value"], rows["impact"], strict=True)
        ],
        "evidence_metric": "step conversion vs rest of site",
        "baseline_rate": rows["rate"],
        "comparison_rate": rows["rest_rate"],
        "effect": rows["gap"],
        "effect_ci_lower": rows["low"],
        "effect_ci_upper": rows["high"],
        "p_value": rows["p_value"],
        "adjusted_p_value": rows["adjusted_p_value"],
        "is_significant": rows["adjusted_p_value"] < settings.alpha,
        "tests_in_family": rows["tests_in_family"],
        "observations": rows["previous_step_sessions"].astype(float),
        "expected_monthly_revenue_impact": rows["impact"],
    }).reset_index(drop=True)


def upsells(substitutes: pd.DataFrame, order_values: pd.DataFrame, settings: ExperimentSettings) -> pd.DataFrame:
    """Three kinds of upsell, each with its evidence: a cheaper product whose dearer sibling of the same
    type is bought instead of it (bought together less than chance: one-sided Fisher test), orders just
    under the free-shipping threshold (descriptive), and second orders larger than first ones (sign test)."""
    if order_values.empty:  # no order facts (calc_experiment_order_values has its one row otherwise)
        return _no_candidates()
    values = {k: _num(v) for k, v in order_values.iloc[0].items()}
    period_days = max(values["period_days"], 1.0)
    frames = [
        _substitute_upsells(substitutes, period_days, settings),
        _free_shipping_upsell(values, period_days, settings),
        _second_order_upsell(values, period_days, settings),
    ]
    frames = [f for f in frames if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else _no_candidates()


def _substitute_upsells(substitutes: pd.DataFrame, period_days: float,
                        settings: ExperimentSettings) -> pd.DataFrame | None:
    """Pairs of same-type products almost never bought together, the cheaper one's buyers offered the
    dearer one; None when no pair qualifies."""
    if substitutes.empty:
        return None
    s = substitutes.copy()
    ab, a, b = (s[c].astype(float) for c in ("orders_with_both", "cheaper_orders", "dearer_orders"))
    # the slots of the cheaper one's orders that its partners fill (with_partner_slots) are no room for the dearer
    taken = s["partner_slots"].astype(float) if "partner_slots" in s else 0.0
    room, slots = s["products_in_orders_with_cheaper"] - taken, s["order_product_slots"] - taken
    s["p_value"] = co_purchase_p_values(ab, a, room, b, slots, "less")
    tests = len(s)
    s["adjusted_p_value"] = benjamini_hochberg(s["p_value"])
    s["dearer_share"] = b / (a + b)
    # what chance gives, knowing the baskets' sizes (co_purchase_p_values); substitutes are the pairs
    # almost never bought together
    s["expected_together"] = _expected_together(a, room, b, slots)
    s["lift"] = ab / s["expected_together"]
    s = s[s["lift"] <= settings.max_substitute_lift]
    s = s.assign(gap=s["dearer_price"].astype(float) - s["cheaper_price"].astype(float))
    s = s.assign(impact=s["cheaper_orders"].astype(float) / (period_days / DAYS_PER_MONTH)
                 * settings.upsell_upgrade_share * s["gap"], significant=s["adjusted_p_value"] < settings.alpha)
    s = top_per_group(s, "cheaper_product_id", ["significant", "impact"], settings.max_pairs_per_product).copy()
    if s.empty:
        return None
    n = s["orders_with_products"].astype(float)
    ab, a, b = (s[c].astype(float) for c in ("orders_with_both", "cheaper_orders", "dearer_orders"))
    expected, gap = s["expected_together"], s["gap"]
    out = pd.DataFrame({
        "experiment_type": "upsell_substitute",
        "target": s["cheaper_product_title"] + " -> " + s["dearer_product_title"],
        "target_key": _product_pair_key(s["cheaper_product_id"], s["dearer_product_id"]),
        "hypothesis": [
            f"Offering {d_t} (+{g:.2f}) to shoppers choosing {c_t} moves some to the dearer option: "
            f"{_pct(sh)} of {ptype} buyers of the two already pick it, and the two are bought together "
            f"{int(both)} times where chance gives {exp:.1f} ({_q(q)} over {tests:,} pairs tested)."
            for c_t, d_t, g, sh, ptype, both, exp, q in zip(
                s["cheaper_product_title"], s["dearer_product_title"], gap, s["dearer_share"],
                s["product_type"], ab, expected, s["adjusted_p_value"], strict=True)
        ],
        "evidence_metric": "share choosing the dearer option; co-purchase vs chance",
        "baseline_rate": s["dearer_share"],
        "comparison_rate": expected / n,
        "effect": s["lift"],
        "effect_ci_lower": np.nan,
        "effect_ci_upper": np.nan,
        "p_value": s["p_value"],
        "adjusted_p_value": s["adjusted_p_value"],
        "is_significant": s["adjusted_p_value"] < settings.alpha,
        "tests_in_family": float(tests),
        "observations": a + b,
        "expected_monthly_revenue_impact": s["impact"],
    })
    # the estimate's claim: upsell_upgrade_share of the cheaper one's buyers take the dearer one instead
    dearer = s["dearer_share"].to_numpy(dtype=float)
    return _finish(out, dearer, dearer + settings.upsell_upgrade_share * (1 - dearer), (a + b) / period_days, settings)


def with_partner_slots(substitutes: pd.DataFrame, pairs: pd.DataFrame, settings: ExperimentSettings) -> pd.DataFrame:
    """The substitutes with `partner_slots`: of the other slots of the cheaper product's orders, those its
    partners fill beyond chance. A product bought nearly always with another (a refill with its device, the
    planted sock with the shoes) has that partner in most of its orders' other slots, and any third product
    would look avoided there by a slot count that takes every slot for free room. A partner is a product of
    calc_experiment_product_pairs bought with it above chance (one-sided p < alpha, unadjusted: counting too
    many partners only makes the substitute test more cautious); what it fills beyond chance is its orders
    with both less the orders chance gives, in whole slots. The pair of the dearer product itself never
    counts."""
    out = substitutes.copy()
    out["partner_slots"] = 0.0
    if pairs.empty or out.empty:
        return out
    ab, a, b = (pairs[c].astype(float) for c in ("orders_with_both", "orders_with_a", "orders_with_b"))
    room, slots = pairs["products_in_orders_with_a"], pairs["order_product_slots"]
    beyond = (ab - _expected_together(a, room, b, slots)).clip(lower=0)
    partner = co_purchase_p_values(ab, a, room, b, slots, "greater") < settings.alpha
    filled = pd.DataFrame({"cheaper_product_id": pairs["product_a_id"].astype("int64"),
                           "dearer_product_id": pairs["product_b_id"].astype("int64"),
                           "beyond": beyond.where(partner, 0.0)})
    per_product = filled.groupby("cheaper_product_id")["beyond"].sum().rename("total")
    keys = out[["cheaper_product_id", "dearer_product_id"]].astype("int64")
    total = keys.merge(per_product, on="cheaper_product_id", how="left")["total"].fillna(0.0)
    own = keys.merge(filled, on=["cheaper_product_id", "dearer_product_id"], how="left")["beyond"].fillna(0.0)
    # never more than the other slots hold beyond the orders with both
    free = (out["products_in_orders_with_cheaper"].astype(float) - out["cheaper_orders"].astype(float)
            - out["orders_with_both"].astype(float))
    out["partner_slots"] = np.minimum(np.round((total - own).to_numpy()), free.clip(lower=0).to_numpy())
    return out


def _expected_together(orders_with_a, slots_with_a, with_b, slots) -> pd.Series:
    """The orders with both A and B that chance gives, knowing the baskets' sizes: the other products of A's
    orders, each B at B's share of the products of the other orders (co_purchase_p_values)."""
    a, room, b, total = (v.astype(float) for v in (orders_with_a, slots_with_a, with_b, slots))
    return (room - a) * b / (total - a)


def _free_shipping_upsell(values: dict[str, float], period_days: float,
                          settings: ExperimentSettings) -> pd.DataFrame | None:
    """Orders that ended just under the free-shipping threshold (descriptive); None when there are none."""
    under = values["orders_just_under_threshold"]
    if not under > 0:
        return None
    share = under / values["valid_orders"]
    impact = (under / (period_days / DAYS_PER_MONTH) * settings.threshold_conversion_share
              * values["average_gap_to_threshold"])
    out = pd.DataFrame({
        "experiment_type": ["upsell_free_shipping"],
        "target": ["orders just under the free-shipping threshold"],
        "target_key": ["orders:under_free_shipping_threshold"],
        "hypothesis": [
            f"A free-shipping progress bar lifts orders over the threshold: {int(under):,} orders "
            f"({_pct(share)}) ended within reach of it, on average {values['average_gap_to_threshold']:.2f} "
            f"short (descriptive evidence, no test)."
        ],
        "evidence_metric": ["share of orders just under the threshold"],
        "baseline_rate": [share], "comparison_rate": [np.nan], "effect": [np.nan],
        "effect_ci_lower": [np.nan], "effect_ci_upper": [np.nan],
        "p_value": [np.nan], "adjusted_p_value": [np.nan], "is_significant": [False], "tests_in_family": [np.nan],
        "observations": [under], "expected_monthly_revenue_impact": [impact],
    })
    # a test of the share of orders that reach the threshold: the estimate's claim moves free_shipping_conversion_share
    # of the orders just under it over
    over = values["orders_over_threshold"] / values["valid_orders"]
    return _finish(out, np.array([over]), np.array([over + share * settings.threshold_conversion_share]),
                   np.array([values["valid_orders"] / period_days]), settings)


def _second_order_upsell(values: dict[str, float], period_days: float,
                         settings: ExperimentSettings) -> pd.DataFrame | None:
    """Second orders larger than first ones (one-sided sign test); None when no customer ordered twice."""
    larger, smaller = values["larger_second_orders"], values["smaller_second_orders"]
    if not larger + smaller > 0:
        return None
    p_value = stats.binomtest(int(larger), int(larger + smaller), 0.5, alternative="greater").pvalue
    share = larger / (larger + smaller)
    change = values["average_second_order_change"]
    impact = values["first_orders"] / (period_days / DAYS_PER_MONTH) * settings.upsell_upgrade_share * max(change, 0.0)
    out = pd.DataFrame({
        "experiment_type": ["upsell_second_order"],
        "target": ["first-time buyers"],
        "target_key": ["customers:first_time_buyers"],
        "hypothesis": [
            f"A post-purchase offer to first-time buyers grows their next order: {_pct(share)} of "
            f"{int(larger + smaller):,} repeat customers spent more on their second order than their first "
            f"(average change {change:+.2f}, sign test p = {p_value:.3f})."
        ],
        "evidence_metric": ["share of second orders larger than the first"],
        "baseline_rate": [share], "comparison_rate": [0.5], "effect": [change],
        "effect_ci_lower": [np.nan], "effect_ci_upper": [np.nan],
        "p_value": [p_value], "adjusted_p_value": [p_value], "is_significant": [p_value < settings.alpha],
        "tests_in_family": [1.0], "observations": [larger + smaller], "expected_monthly_revenue_impact": [impact],
    })
    # a test of the next order's value: each first-time buyer's grows by the estimate's claim
    aov = values["average_order_value"]
    return _finish(out, np.array([aov]), np.array([aov + settings.upsell_upgrade_share * max(change, 0.0)]),
                   np.array([values["first_orders"] / period_days]), settings, sd=values["order_value_stddev"])


def _has_steps(site: pd.DataFrame, steps: tuple[str, ...]) -> bool:
    """The site-wide funnel measured these steps and has sessions at each (else no rate can be compared
    with it). A step the store does not send has null sessions."""
    if not set(steps) <= set(site.index):
        return False
    sessions = pd.to_numeric(site.loc[list(steps), "step_sessions"], errors="coerce")
    return bool(sessions.notna().all() and (sessions > 0).all())


def _period_days(summary: pd.DataFrame) -> float:
    first = pd.to_datetime(summary["first_session_date"]).min()
    last = pd.to_datetime(summary["last_session_date"]).max()
    return float((last - first).days + 1)


def candidates(pairs, substitutes, order_values, funnel_summary, settings: ExperimentSettings) -> pd.DataFrame:
    """All experiment candidates, one row each (see COLUMNS)."""
    aov = _num(order_values.iloc[0]["average_order_value"]) if len(order_values) else 0.0
    frames = [
        cross_sell(pairs, aov, settings),
        upsells(with_partner_slots(substitutes, pairs, settings), order_values, settings),
        landing_pages(funnel_summary, aov, settings),
        funnel_steps(funnel_summary, aov, settings),
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _no_candidates()
    table = pd.concat(frames, ignore_index=True)
    for column in COLUMNS:
        if column not in (*TEXT_COLUMNS, "is_significant"):
            values = pd.Series(np.asarray(table[column], dtype=float)).astype("Float64")
            table[column] = values.mask(values.isna() | ~np.isfinite(values.fillna(0).astype(float)))
    table["is_significant"] = table["is_significant"].astype(bool)
    return table
