"""The public API served as in production: gunicorn on loopback, started and stopped here.

Two workers, one per core of the 2-core machine the targets are set for, of gunicorn's default
``sync`` kind, which serves one request at a time and closes the connection after each answer,
so the load generator's keep-alive connections are reopened for every request (on loopback,
a fraction of a millisecond). The alternative, the ``gthread`` worker, keeps connections alive
but let the first worker to wake accept most or all of the load generator's connections while
the other stood idle, and at its connection limit it stops reading the ones it keeps: the
figures depended on which worker won each accept. With ``sync`` workers only an idle worker
accepts, so the load spreads evenly across both, as it would behind a proxy.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"
READY_PATH = "/api/v1/properties/?limit=1"

# DRF's anonymous throttle keeps, per client address, the times of its requests within the
# rate's period, and rewrites that list in the cache on every request. All the load comes from
# one address, so a per-minute rate would make each request copy a minute's worth of times;
# a per-second one keeps the list as short as production's 600/minute keeps it, while never
# refusing a request.
THROTTLE_RATE = "1000000/second"


@dataclass(frozen=True)
class Server:
    port: int
    workers: int
    process: subprocess.Popen
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", READY_PATH)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start(url: str, *, workers: int = 2, page_cache: bool = True, timeout: float = 60) -> Server:
    """Start gunicorn against database ``url`` and return once it answers an API request.
    ``page_cache=False`` turns the API's page cache off, so that every request is computed."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="strata-bench-gunicorn-", suffix=".log")[1])
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "archive.settings",
        "DEBUG": "0",  # DEBUG keeps every query in memory and renders error pages
        "API_THROTTLE_RATE": THROTTLE_RATE,
    }
    if not page_cache:
        environment["API_PAGE_CACHE_ENTRIES"] = "0"
    command = [
        str(GUNICORN),
        "archive.wsgi",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--error-logfile={log}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    server = Server(port, workers, process, log)
    deadline = time.monotonic() + timeout
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"gunicorn did not answer on port {port}:\n{tail}")
        time.sleep(0.2)
    return server


def stop(server: Server) -> None:
    """Stop the gunicorn this module started (its master stops its workers), and drop its log."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    with contextlib.suppress(FileNotFoundError):
        server.log.unlink()


@contextlib.contextmanager
def running(url: str, **options):
    server = start(url, **options)
    try:
        yield server
    finally:
        stop(server)
