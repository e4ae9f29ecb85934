"""Processes the harness starts and watches: servers, their memory and their CPU, from /proc."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
PROFILE_RATE = 100  # py-spy samples per second


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    """Resident memory of one process, in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def pids_matching(*, comm: str, cmdline_contains: str | None = None) -> list[int]:
    """Processes by command name (read-only discovery, e.g. PostgreSQL backends for the CPU table)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != comm:
                    continue
            if cmdline_contains is not None:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if cmdline_contains.encode() not in f.read():
                        continue
        except OSError:
            continue
        found.append(int(entry))
    return found


def postgres_cpu_seconds() -> float:
    """CPU time of the whole PostgreSQL server: the postmaster, its live children, and the
    children it has already reaped (cutime/cstime) — backends of `CONN_MAX_AGE = 0` live for
    one request, so sampling only live processes would miss most of their work."""
    total = 0.0
    for pid in pids_matching(comm="postgres"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
        total += own + reaped
    return total


def pids_cpu(pids) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


@dataclass
class CpuMeter:
    """CPU share of named groups of processes between start() and stop()."""

    groups: dict  # name -> callable returning the group's CPU seconds so far
    t0: float = 0.0
    before: dict = field(default_factory=dict)

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.before = {name: read() for name, read in self.groups.items()}

    def stop(self) -> dict:
        """{group: percent of one core} over the interval (100 = one core busy)."""
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        return {
            name: round(100.0 * (read() - self.before[name]) / elapsed, 1)
            for name, read in self.groups.items()
        }


class Server:
    """A server subprocess with its log under bench/out/."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path, stdin=None, stdout_pipe=False):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE if stdout_pipe else self.log,
            stderr=self.log,
            text=True,
        )
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""


def start_daphne(name: str, app: str, port: int, env: dict, log_dir: Path, server: str = "daphne") -> Server:
    """`daphne -b 127.0.0.1 -p PORT app`, as a user would run it.

    server="uvicorn" (an experiment, `--server uvicorn`; uvicorn is not a requirement): the same
    ASGI application under uvicorn with uvloop and the `websockets` protocol implementation.
    """
    if server == "uvicorn":
        argv = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--loop", "uvloop", "--ws", "websockets", "--log-level", "warning"]
    else:
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
    return Server(name, argv, env, log_dir)


def wait_http(server: Server, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited early:\n{server.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer {url} within {timeout:.0f} s:\n{server.tail()}")


def py_spy() -> str | None:
    """py-spy, if installed in the virtualenv (`--profile` only; not a requirement of the bench)."""
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy record of a running process, collapsed stacks (`--format raw`), idle threads excluded.

    Stops by itself after `seconds`, or earlier with stop_profile() (SIGINT: py-spy then writes).
    """
    binary = py_spy()
    if binary is None:
        return None
    return subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(PROFILE_RATE)]
        + ["--format", "raw", "--threads", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine (every process, ours or not), from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLOCK_TICKS


class Profiles:
    """py-spy recordings of several processes over one phase (`--profile`)."""

    def __init__(self, enabled: bool, out_dir: Path):
        self.enabled = enabled and py_spy() is not None
        self.out_dir = out_dir
        self.running: list[tuple[str, subprocess.Popen, Path]] = []
        self.started = 0.0

    def start(self, phase: str, targets: dict[str, int], seconds: float) -> None:
        if not self.enabled:
            return
        self.started = time.monotonic()
        for name, pid in targets.items():
            path = self.out_dir / f"profile-{phase}-{name.replace(' ', '').replace(':', '')}.txt"
            proc = start_profile(pid, seconds, path)
            if proc is not None:
                self.running.append((f"{name} ({phase})", proc, path))

    def stop(self, summarize) -> dict:
        results = {}
        seconds = time.monotonic() - self.started
        for name, proc, path in self.running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
                results[name] = summarize(path.read_text().splitlines(), seconds=seconds, rate=PROFILE_RATE)
            except (subprocess.TimeoutExpired, OSError):
                proc.kill()
        self.running = []
        return results
