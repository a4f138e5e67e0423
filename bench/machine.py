"""What the figures were taken on: the machine, the database server, the software, the code."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import django

from bench.database import connect


def _memory_bytes() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load() -> float:
    """The one-minute load average: other work on the machine skews every figure."""
    return os.getloadavg()[0]


def describe(url: str) -> dict:
    with connect(url) as connection:
        server = connection.execute("SELECT version()").fetchone()[0]
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]
            for name in ("shared_buffers", "synchronous_commit", "fsync", "autovacuum")
        }
        # Other sessions doing work on the same server share its disk and CPUs with us.
        others = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE state = 'active' AND pid <> pg_backend_pid() AND datname <> current_database()"
        ).fetchone()[0]
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "postgresql": server.split(" on ")[0],
        "postgresql_settings": settings,
        "other_active_sessions": others,
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "commit": commit or "unknown",
        "load_at_start": load(),
    }
