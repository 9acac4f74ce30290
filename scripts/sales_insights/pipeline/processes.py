"""How the CLI and the processes it starts end: together. A signal (SIGTERM from `timeout` or `systemctl
stop`, SIGINT from Ctrl-C) stops the CLI as an exception that unwinds, so a build stops dbt and records its
attempt; a dbt child dies with the CLI even when the CLI is killed outright (SIGKILL, a crash), so no orphan
goes on writing a file the next build needs; and a pid recorded by an earlier process can be checked for
still running."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# prctl(2) option: the signal the calling process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
# How long a child asked to stop (SIGTERM) may take before it is killed: dbt stops at once on SIGTERM, so
# this only bounds a child that hangs.
STOP_GRACE_SECONDS = 5.0


class Stopped(SystemExit):
    """A signal told the process to stop. A SystemExit, so it unwinds the stack and every `finally` runs (a
    build stops dbt, records the attempt and removes its unpublished file), and no `except Exception` takes
    it for an error to handle. The exit code is 128 + the signal's number, as a shell reports a process the
    signal ended. `detail` says what the stop left behind, for the one line the CLI prints."""

    def __init__(self, signum: int, detail: str = "") -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.detail = detail

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        return f"stopped by {name}" + (f"; {self.detail}" if self.detail else "")


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


def stop_on_signals() -> Callable[[], None]:
    """Have SIGTERM and SIGINT raise Stopped in the main thread (Python's default for SIGTERM ends the
    process at once, with no `finally` run and any child left running); returns what puts the handlers
    before back (for a caller that lives on, as a test running the CLI in its own process)."""
    previous = {signum: signal.signal(signum, _raise_stopped) for signum in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel send the child SIGKILL when its parent dies (Linux's
    PR_SET_PDEATHSIG), or None where there is no prctl: there a killed CLI can still leave its child running,
    and the next build finds what it holds (build.py). SIGKILL, not SIGTERM: nobody is left to read what the
    child would finish, and a signal it could catch or ignore might leave it running.

    The kernel sends the signal when the thread that forked the child exits. The caller waits for the child
    in that same thread, and stops it before leaving on an exception, so the thread never ends before the
    child does unless the whole process dies, which is the case this is for."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    # Built here too: the child, forked from a process that may run other threads, should do as little as
    # it can before exec.
    args = (ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), *(ctypes.c_ulong(0),) * 3)

    def preexec() -> None:
        prctl(*args)
        if os.getppid() != parent:  # the parent died between the fork and the prctl: no signal will come
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def start_child(command: list[str], **popen_kwargs) -> subprocess.Popen:
    """subprocess.Popen(command, ...) for a child that dies with this process (see _die_with_parent). The
    caller waits for it and, leaving on an exception, calls stop_child first."""
    return subprocess.Popen(command, preexec_fn=_die_with_parent(), **popen_kwargs)


def stop_child(proc: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """Ask the child to stop (SIGTERM), and kill it when it has not after `grace` seconds; returns once it
    has ended."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from its third field (the state) on, or None without /proc or such a process. The
    program name before them is in parentheses and may hold spaces, so the split starts after the last ')'."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def process_started(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot (/proc/<pid>/stat's starttime), or None where
    that is unknown: with the pid it tells a process from a later one the pid was given to."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def is_running(pid: int, started: str | None = None) -> bool:
    """Process `pid` runs (a zombie, ended but not yet reaped, does not), and is the one that started at
    `started` (process_started) when that is given and can be checked."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    fields = _stat_fields(pid)
    if fields is None:
        return True  # no /proc: the signal check is all there is
    if fields[0] == "Z":
        return False
    return started is None or len(fields) <= 19 or fields[19] == started


def processes_with_args(*args: str) -> list[tuple[int, str]]:
    """(pid, command line) of the other processes whose command line has each of `args` as one argument
    (Linux's /proc; none found elsewhere)."""
    wanted = [a.encode() for a in args]
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            continue  # ended meanwhile, or not ours to read
        if int(entry.name) != os.getpid() and all(a in argv for a in wanted):
            found.append((int(entry.name), b" ".join(argv).decode(errors="replace")))
    return sorted(found)
