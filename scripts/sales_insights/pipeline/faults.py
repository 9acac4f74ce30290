"""Faults of the machine a build meets, said in one line each: a full disk (which filesystem, how much is
free there, how much the build needs) and a DuckDB file another process holds (which file, which pid).
Without this they come out as whatever the step that met them makes of them: a traceback, dbt's last lines,
or the loader's "could not be read as CSV"."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from sales_insights.errors import SalesInsightsError

DISK_FULL = "No space left on device"  # strerror(ENOSPC), as DuckDB, Python and dbt print it
# DuckDB names the file it could not write: 'Could not write file "/x/w.duckdb.next": No space left on device';
# Python the file it could not open: "[Errno 28] No space left on device: '/x/run_results.json'".
_DISK_FULL_FILE = (re.compile(r'"([^"\n]+)"[^"\n]*' + DISK_FULL), re.compile(DISK_FULL + r": '([^'\n]+)'"))
# 'Could not set lock on file "/x/w.duckdb.next": Conflicting lock is held in /usr/bin/python3.11 (PID 4242)'
_LOCK_HELD = re.compile(r'Could not set lock on file "([^"\n]+)": Conflicting lock is held in (.+?) \(PID (\d+)\)')


class DiskFull(SalesInsightsError):
    """A write of `path` failed for lack of space. Raised where the error does not name the file written
    (shutil.copyfile's names the source), and with the whole message once disk_full_message made it."""

    def __init__(self, path: Path, message: str | None = None) -> None:
        super().__init__(message or f"no space left on device writing {path}")
        self.path = path


def size_text(n: float) -> str:
    """1.4 GB, 230 MB, 12 kB: decimal units, as df -H and the report's sizes."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n < 10 * scale else f"{n / scale:.0f} {unit}"
    return f"{int(n)} B"


def tree_size(path: Path) -> int:
    """Bytes in the file `path`, or in the files under the folder `path` (0 when there is none)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for entry in path.rglob("*") if path.is_dir() else ():
        try:
            total += entry.stat().st_size if entry.is_file() else 0
        except OSError:
            continue  # gone meanwhile
    return total


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from or while handling."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def disk_full_file(exc: BaseException, default: Path) -> Path | None:
    """The file a write of which ran out of space, when `exc` (or what it came from) is that fault: the
    file the error names, else `default`. None when it is another fault."""
    for cause in _chain(exc):
        if isinstance(cause, DiskFull):
            return cause.path
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            # a copy's error names its source first and the file it could not write second (filename2)
            written = cause.filename2 or cause.filename
            return Path(written) if isinstance(written, str) else default
        text = str(cause)
        if DISK_FULL in text:
            for pattern in _DISK_FULL_FILE:
                found = pattern.search(text)
                if found:
                    return Path(found.group(1))
            return default
    return None


def disk_full_message(path: Path, needed: str = "") -> str:
    """One line: the filesystem of `path` is full, with what is free there now and, when given, what the
    job needs (`needed`, in words)."""
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    where = existing if existing.is_dir() else existing.parent
    usage = shutil.disk_usage(where)
    return (f"no space left on the filesystem of {where} (writing {path}): {size_text(usage.free)} free of "
            f"{size_text(usage.total)}{', and ' + needed if needed else ''}; free some space there and try again")


def held_lock(exc: BaseException) -> tuple[str, str, int] | None:
    """(file, program, pid) when `exc` (or what it came from) is DuckDB refusing a file another process
    has open: its message names them."""
    for cause in _chain(exc):
        found = _LOCK_HELD.search(str(cause))
        if found:
            return found.group(1), found.group(2), int(found.group(3))
    return None


def held_lock_message(path: str | Path, program: str, pid: int | None, what: str = "") -> str:
    """One line: `path` (`what` it is, when given) is held by process `pid`, and how to go on."""
    holder = f"process {pid} ({program})" if pid is not None else program
    stop = f"stop it (`kill {pid}`)" if pid is not None else "stop it"
    return f"{path}{what} is held open by {holder}; {stop} and build again"


def duckdb_lock_holder(path: Path) -> tuple[str, int | None] | None:
    """(program, pid) of a process holding DuckDB's lock on the database file `path`, or None when no process
    does. The lock is a POSIX record lock on the whole file (fcntl), so trying one tells without opening
    the database (which would replay its WAL); DuckDB's refusal of a read-only open then names the writer
    that holds it, and /proc/locks a reader."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EAGAIN):
            raise
    else:
        return None  # closing the descriptor below releases the lock just taken
    finally:
        os.close(fd)
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:
        held = held_lock(exc)
        if held:
            return held[1], held[2]
    pid = _proc_locks_holder(path)
    return _program(pid) if pid is not None else "another process", pid


def _proc_locks_holder(path: Path) -> int | None:
    """The pid /proc/locks gives for a lock on `path` (Linux; None elsewhere or when it lists none). Its
    lines read "1: POSIX  ADVISORY  READ 4242 fe:00:2154536 0 EOF": the device in hex, then the inode."""
    try:
        stat = path.stat()
        lines = Path("/proc/locks").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->":  # "->" marks a process waiting for the lock
            continue
        major, minor, inode = fields[5].split(":")
        if (int(major, 16), int(minor, 16), int(inode)) == (os.major(stat.st_dev), os.minor(stat.st_dev),
                                                           stat.st_ino):
            return int(fields[4])
    return None


def _program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace") or "?"
    except OSError:
        return "?"
