"""Service level objectives of the sales analytics outputs, evaluated from what the jobs left behind.

Each objective is measured, compared with its limit in [slo] of sales_insights.toml and reported with the
measured value. What cannot be measured (no warehouse, no build recorded, no export) is a breach too: an
objective nobody can show to be met is not met. Two outcomes are neither met nor breached: not applicable
(the data cannot have it) and pending (its deadline has not come for this install yet).

- ga4_freshness, shopify_freshness: age of the newest GA4 event and the newest Shopify order in the
  published warehouse (staging.stg_ga4__events.event_at, staging.stg_shopify__orders.created_at).
- build_duration: the last build attempt, published or failed (dbt's artefacts folder: last_build.json); one
  that died without finishing has no duration, a breach.
- contract_pass_rate: of the checks that attempt ran, dbt's data and unit tests and the Great Expectations
  expectations, the share that passed.
- export_delivery: a complete export (every configured mart) was written in the day that ended at the
  last deadline passed: after the deadline before it, and by it. (An export after the last deadline
  counts for the next one.) That deadline is owed only by an install that was running by then: its first
  recorded build, or its oldest export folder (complete or not), is no later than the deadline.
  Otherwise the objective is pending, not breached, and names the next deadline and the complete export
  already in for it: on a fresh install no deadline has been missed yet.
- tracking_coverage: GA4 saw this share of the online store's valid orders over the last days of data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from sales_insights.config import SloConfig
from sales_insights.outputs.export import complete_runs, export_runs
from sales_insights.pipeline.build import BEFORE_RECORDS, read_build_attempt, read_outside_cli_write

PASS = "pass"
BREACH = "breach"
# An objective the warehouse's data cannot have: tracking coverage when GA4 came as reports, which carry no
# transaction ids. Neither met nor breached, and said so.
NOT_APPLICABLE = "not applicable"
# An objective whose deadline has not come for this install (export_delivery on a fresh one): not met yet,
# not breached either, and `sales-insights slo` does not fail on it.
PENDING = "pending"


@dataclass(frozen=True)
class SloResult:
    name: str
    status: str  # pass | breach | pending | not applicable
    measured: str  # the measured value, in words
    objective: str  # the limit, in words
    value: float | None = None  # the measured number (None when it could not be measured)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def breached(self) -> bool:
        return self.status == BREACH


def _result(name: str, ok: bool | None, measured: str, objective: str, value: float | None = None) -> SloResult:
    """A verdict: met when ok, breached when not, and breached too when ok is None (not measurable). A pending
    or not-applicable objective is no verdict and is built as an SloResult of that status instead."""
    return SloResult(name, PASS if ok else BREACH, measured, objective, value)


def query_one(warehouse: Path, sql: str) -> tuple[tuple | None, str | None]:
    """One row from the published warehouse, read-only, with times in UTC: (row, None), or (None, why not)."""
    if not warehouse.exists():
        return None, f"no warehouse at {warehouse}"
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        return None, f"cannot open {warehouse} (another process may have it open for writing): {exc}"
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).fetchone(), None
    except duckdb.Error as exc:
        return None, f"cannot read {warehouse}: {str(exc).splitlines()[0]}"
    finally:
        con.close()


def _freshness(name: str, warehouse: Path, relation: str, column: str, what: str, max_hours: float,
               now: datetime) -> SloResult:
    objective = f"newest {what} at most {max_hours:g} h old"
    row, error = query_one(warehouse, f"select max({column}) from {relation}")
    if row is None or row[0] is None:
        return _result(name, None, error or f"no {what} in {warehouse}", objective)
    newest = row[0]
    age = (now - newest).total_seconds() / 3600
    return _result(name, age <= max_hours, f"newest {what} {newest.isoformat(timespec='minutes')}, {age:,.1f} h old",
                   objective, round(age, 2))


def _build_duration(attempt: dict | None, max_minutes: float) -> SloResult:
    objective = f"last build at most {max_minutes:g} min"
    if not attempt:
        return _result("build_duration", None, "no build recorded", objective)
    if attempt.get("seconds") is None:  # it died without finishing
        error = (attempt.get("error") or "duration not recorded").splitlines()[0]
        return _result("build_duration", None, f"build {attempt['build_id']} ({attempt['outcome']}): {error}",
                       objective)
    minutes = attempt["seconds"] / 60
    return _result("build_duration", minutes <= max_minutes,
                   f"build {attempt['build_id']} ({attempt['outcome']}) took {minutes:.1f} min", objective,
                   round(minutes, 2))


def _contract_pass_rate(attempt: dict | None, min_rate: float, outside: dict | None = None) -> SloResult:
    objective = f"at least {min_rate:.1%} of checks passed"
    if outside:
        # the checks of the last build are not of what the file now holds
        at = outside["finished_at"].isoformat(timespec="minutes")
        return _result("contract_pass_rate", False, f"unchecked: `dbt {outside['command']}` rebuilt models of the "
                       f"warehouse outside sales-insights at {at}", objective)
    parts = [p for p in ((attempt or {}).get("dbt_tests"), (attempt or {}).get("contracts")) if p]
    total = sum(p["total"] for p in parts)
    if not total:
        return _result("contract_pass_rate", None, "no checks ran in the last build", objective)
    passed = sum(p["passed"] for p in parts)
    rate = passed / total
    unchecked = "" if (attempt or {}).get("contracts") else "; Great Expectations not run"
    return _result("contract_pass_rate", rate >= min_rate,
                   f"{passed}/{total} checks passed ({rate:.1%}) in build {attempt['build_id']}{unchecked}",
                   objective, round(rate, 6))


def _instant(text) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return at if at.tzinfo else None


def _in_service_since(export_dir: Path, attempt: dict | None) -> datetime | None:
    """When this install began: the earliest of its first recorded build and its oldest export folder (a
    subset or an incomplete run shows it was running as well as a complete one). None when neither exists.
    Both are kept as the install runs: the build record carries its first start forward, and exports are
    pruned to the newest keep_runs only, which the build record makes up for."""
    found = [_instant(m.get("exported_at")) for _, m in export_runs(export_dir)]
    if attempt:
        # a record from before first_started_at was kept: the install ran before its records say
        found.append(_instant(attempt.get("first_started_at") or BEFORE_RECORDS))
    return min((at.astimezone(UTC) for at in found if at), default=None)


def _export_delivery(export_dir: Path, deadline: str, zone: ZoneInfo, now: datetime,
                     attempt: dict | None = None) -> SloResult:
    hour, minute = map(int, deadline.split(":"))
    local_now = now.astimezone(zone)
    due = datetime.combine(local_now.date(), time(hour, minute), zone)
    if due > local_now:
        due -= timedelta(days=1)
    window_start = due - timedelta(days=1)
    next_due = due + timedelta(days=1)
    # Instants compared in UTC: within one ZoneInfo, Python compares wall clocks, wrong in a repeated hour.
    due_utc, start_utc = due.astimezone(UTC), window_start.astimezone(UTC)
    objective = f"a complete export each day by {deadline} {zone.key}"
    exported = sorted((datetime.fromisoformat(m["exported_at"]).astimezone(zone), p.name)
                      for p, m in complete_runs(export_dir) if m.get("exported_at"))
    window = f"due between {window_start.isoformat(timespec='minutes')} and {due.isoformat(timespec='minutes')}"
    on_time = [(at, name) for at, name in exported if start_utc < at.astimezone(UTC) <= due_utc]
    if on_time:
        at, name = on_time[-1]
        return _result("export_delivery", True, f"complete export {name} at {at.isoformat(timespec='minutes')}; "
                       f"{window}", objective)
    since = _in_service_since(export_dir, attempt)
    if since is not None and since > due_utc:
        # The install began after that deadline: it was never its to meet, so nothing was missed.
        # (With neither a build nor an export recorded, nothing shows the install began: a breach, below.)
        ahead = [(at, name) for at, name in exported if at.astimezone(UTC) > due_utc]
        in_for = (f"complete export {ahead[-1][1]} at {ahead[-1][0].isoformat(timespec='minutes')} is in for it"
                  if ahead else "no complete export in for it yet")
        return SloResult("export_delivery", PENDING,
                         f"not yet due: this install began at {since.astimezone(zone).isoformat(timespec='minutes')}, "
                         f"after the deadline of {due.isoformat(timespec='minutes')}; the next deadline is "
                         f"{next_due.isoformat(timespec='minutes')}; {in_for}", objective)
    if not exported:
        return _result("export_delivery", False, f"no complete export in {export_dir}", objective)
    at, name = exported[-1]
    later = "; it counts for the next deadline" if at.astimezone(UTC) > due_utc else ""
    return _result("export_delivery", False, f"no complete export {window}; the newest, {name}, at "
                   f"{at.isoformat(timespec='minutes')}{later}", objective)


def _tracking_coverage(warehouse: Path, floor: float, days: int) -> SloResult:
    objective = f"GA4 sees at least {floor:.0%} of online-store orders over the last {days} days of data"
    row, error = query_one(warehouse, f"""
        with recent as (
            select * from marts.fct_ga4_shopify_reconciliation
            where report_date > (select max(report_date) from marts.fct_ga4_shopify_reconciliation) - {days}
        )
        select
            sum(round(coalesce(web_tracking_coverage_rate, 0) * shopify_web_orders)),
            sum(shopify_web_orders),
            min(report_date),
            max(report_date)
        from recent
    """)
    if row is None or not row[1]:
        return _result("tracking_coverage", None, error or "no online-store orders to measure in the warehouse",
                       objective)
    matched, orders, first, last = row
    rate = float(matched) / float(orders)
    return _result("tracking_coverage", rate >= floor,
                   f"{int(matched):,} of {int(orders):,} online-store orders ({rate:.1%}) from {first} to {last}",
                   objective, round(rate, 6))


def _ga4_grain(warehouse: Path) -> str:
    row, _ = query_one(warehouse, "select ga4_grain from meta.build_info")
    return str(row[0]) if row and row[0] else "events"


def evaluate(config: SloConfig, warehouse: Path, export_dir: Path, now: datetime) -> list[SloResult]:
    """Every objective, measured now (an aware datetime)."""
    attempt = read_build_attempt(warehouse)
    outside = read_outside_cli_write(warehouse)
    zone = ZoneInfo(config.timezone)
    report_grain = _ga4_grain(warehouse) == "report"
    if report_grain:
        # A report's newest day counts as seen at its end (the day is in the GA4 property's time zone).
        ga4 = _freshness("ga4_freshness", warehouse, "staging.stg_ga4__funnel_report",
                         "cast(report_date + 1 as timestamptz)", "GA4 report day (its end)",
                         config.ga4_max_age_hours, now)
        coverage = SloResult("tracking_coverage", NOT_APPLICABLE, "not measurable: GA4 came as reports, which "
                             "carry no transaction ids", f"GA4 sees at least {config.tracking_coverage_floor:.0%} "
                             "of online-store orders")
    else:
        ga4 = _freshness("ga4_freshness", warehouse, "staging.stg_ga4__events", "event_at", "GA4 event",
                         config.ga4_max_age_hours, now)
        coverage = _tracking_coverage(warehouse, config.tracking_coverage_floor, config.tracking_coverage_days)
    return [
        ga4,
        _freshness("shopify_freshness", warehouse, "staging.stg_shopify__orders", "created_at", "Shopify order",
                   config.shopify_max_age_hours, now),
        _build_duration(attempt, config.build_max_minutes),
        _contract_pass_rate(attempt, config.contract_min_pass_rate, outside),
        _export_delivery(export_dir, config.export_deadline, zone, now, attempt),
        coverage,
    ]


def format_results(results: list[SloResult]) -> str:
    width = max(len(r.name) for r in results)
    label = {PASS: "PASS  ", BREACH: "BREACH", PENDING: "WAIT  ", NOT_APPLICABLE: "N/A   "}
    lines = [f"{label[r.status]} {r.name:<{width}}  {r.measured} (objective: {r.objective})" for r in results]
    passed, breaches = sum(r.passed for r in results), sum(r.breached for r in results)
    pending = sum(r.status == PENDING for r in results)
    not_applicable = sum(r.status == NOT_APPLICABLE for r in results)
    # met out of the objectives with a verdict: a pending one is not counted as met before its deadline
    lines.append(f"{passed} of {passed + breaches} objectives met"
                 + (f"; {breaches} breached" if breaches else "")
                 + (f"; {pending} not yet due" if pending else "")
                 + (f"; {not_applicable} not applicable" if not_applicable else ""))
    return "\n".join(lines)


def as_dicts(results: list[SloResult]) -> list[dict]:
    return [asdict(r) for r in results]
