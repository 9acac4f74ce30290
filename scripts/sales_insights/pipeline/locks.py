"""Exclusive, non-blocking file locks: a second holder fails at once with a clear message instead of
waiting (a scheduled job that finds the previous one still running should say so, not pile up)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sales_insights.errors import SalesInsightsError


@contextmanager
def exclusive_lock(lock_path: Path, what: str, error: type[SalesInsightsError] = SalesInsightsError) -> Iterator[None]:
    """Hold `lock_path` (flock) for the block. The holder's pid and start time are written into the file,
    so the message of a refused second holder says who has it. The lock goes with the process: a holder
    that crashes or is killed never leaves a stale lock behind."""
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+")
    except OSError as exc:
        raise error(f"cannot open the lock of the {what}, {lock_path}: {exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip()
            held_by = f" ({holder})" if holder else ""
            raise error(f"another {what} is running{held_by}: {lock_path} is locked; wait for it to finish") from exc
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
