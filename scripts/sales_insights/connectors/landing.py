"""How a connector's fetch lands on disk: one folder per day (and one for the undated snapshot) with the
contract CSVs and the raw responses, scrubbed of personal fields, for audit. Every folder is written
beside its old version and swapped in whole; `current/` is then rebuilt from all of them."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sales_insights.quality.raw_contract import GA4_FUNNEL_REPORT, TABLES_BY_NAME

SHOPIFY_DATED = ("raw_shopify_orders", "raw_shopify_order_lines", "raw_shopify_refunds")
SHOPIFY_SNAPSHOT = ("raw_shopify_customers", "raw_shopify_products", "raw_shopify_variants")
GA4_REPORT = GA4_FUNNEL_REPORT.name


@dataclass
class ConnectorResult:
    connector: str
    days: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    calls: int = 0
    retries: int = 0


def _add(target: dict[str, list[dict]], rows: dict[str, list[dict]]) -> None:
    for table, table_rows in rows.items():
        target.setdefault(table, []).extend(table_rows)


@dataclass
class Landing:
    """What one connector fetched, before anything is written: per folder (a day, or the snapshot) the
    contract rows of each table and the raw records they came from."""

    tables: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    audit: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, folder: str, rows: dict[str, list[dict]], audit_line: dict) -> None:
        _add(self.tables.setdefault(folder, {}), rows)
        self.audit.setdefault(folder, []).append(audit_line)


def days_between(since: date, until: date) -> list[str]:
    return [(since + timedelta(days=n)).isoformat() for n in range((until - since).days + 1)]


def email_hash(email) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest() if email else ""


def _write_csv(path: Path, table: str, rows: Iterable[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TABLES_BY_NAME[table].column_names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _staged(target: Path, fill: Callable[[Path], None]) -> Path:
    """A new version of folder `target`, written beside it (hidden) by `fill`; readable by everyone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        os.chmod(staging, 0o755)
        fill(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _swap_in(staging: Path, target: Path) -> None:
    """Put a staged folder in the place of `target`. The old folder is moved aside first and put back if the
    move of the new one fails; one that a crash left aside is put back by `recover_folders`."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_folders(directory: Path) -> None:
    """After a crash: put back a folder left aside whose place is empty, and remove unfinished ones."""
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        match = re.fullmatch(r"\.(.+)\.(old|new)-\w+", path.name)
        if not match or not path.is_dir():
            continue
        target = directory / match.group(1)
        if match.group(2) == "old" and not target.exists():
            os.replace(path, target)
        else:
            shutil.rmtree(path, ignore_errors=True)


# Personal fields of the raw records: the audit file keeps a hash of an email, and none of the rest.
_PERSONAL = {"first_name", "last_name", "name_on_card", "phone", "address1", "address2", "zip", "latitude",
             "longitude", "company", "note", "browser_ip"}


def _scrub(value):
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if key == "email":
                out["email_sha256"] = email_hash(inner) if isinstance(inner, str) else None
            elif key not in _PERSONAL:
                out[key] = _scrub(inner)
        return out
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _folder_filler(tables: dict[str, list[dict]], audit: list[dict]) -> Callable[[Path], None]:
    def fill(folder: Path) -> None:
        with (folder / "responses.jsonl").open("w", encoding="utf-8") as handle:
            for line in audit:
                handle.write(json.dumps(_scrub(line), sort_keys=True) + "\n")
        for table, rows in tables.items():
            _write_csv(folder / f"{table}.csv", table, rows)

    return fill


def day_folders(connector_dir: Path) -> list[Path]:
    return sorted(p for p in connector_dir.glob("????-??-??") if p.is_dir())


def assemble_current(extract_dir: Path) -> Path:
    """current/: every day's CSVs of each dated table concatenated in day order, and the snapshot's tables.
    An order found in two day folders (its day moved, say the store changed its time zone) is kept once,
    from the newest folder, with its lines and refunds."""
    def fill(folder: Path) -> None:
        days = day_folders(extract_dir / "shopify")
        order_day = {row["id"]: day.name for day in days for row in _read_csv(day / "raw_shopify_orders.csv")}
        for table in SHOPIFY_DATED:
            if not days:
                continue
            key = "id" if table == "raw_shopify_orders" else "order_id"
            _write_csv(folder / f"{table}.csv", table, (row for day in days for row in _read_csv(day / f"{table}.csv")
                                                        if order_day.get(row[key]) == day.name))
        ga4_days = day_folders(extract_dir / "ga4")
        if ga4_days:
            _write_csv(folder / f"{GA4_REPORT}.csv", GA4_REPORT,
                       (row for day in ga4_days for row in _read_csv(day / f"{GA4_REPORT}.csv")))
        snapshot = extract_dir / "shopify" / "snapshot"
        for table in SHOPIFY_SNAPSHOT:
            if (snapshot / f"{table}.csv").exists():
                shutil.copyfile(snapshot / f"{table}.csv", folder / f"{table}.csv")

    current = extract_dir / "current"
    _swap_in(_staged(current, fill), current)
    return current


def _read_csv(path: Path):
    if not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def write_landings(extract_dir: Path, fetched: list) -> None:
    """Stage every folder of every connector, then swap them in, then rebuild current/. A failure while
    staging changes nothing; one while swapping leaves each day old or new, whole, and current/ as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for connector, landing, _ in fetched:
            for name, tables in landing.tables.items():
                target = extract_dir / connector / name
                staged.append((_staged(target, _folder_filler(tables, landing.audit.get(name, []))), target))
        while staged:
            staging, target = staged[0]
            _swap_in(staging, target)
            staged.pop(0)
    finally:
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)
    assemble_current(extract_dir)
