"""The public API under load: gunicorn on loopback, a load generator in another process, the
SQL each request makes, and the psycopg + ``json.dumps`` baseline beside each endpoint.

bench.run calls :func:`measure` after its other figures. To measure the API alone against a
benchmark database that is already built (by ``make bench``, or ``python -m bench.run
--database NAME``), without rebuilding it:

    python -m bench.api_load --database strata_api_scratch [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import api_baseline, api_queries, api_server, database
from bench.latency import Latencies
from bench.workers import run_in_processes

ROOT = Path(__file__).resolve().parent.parent
WARMUP_SECONDS = 3.0
DEFAULT_SECONDS = 15.0
WORKERS = 2  # one per core of the machine the targets are set for
# Two requests per worker in flight: while a worker serves one, the next waits in the listen
# queue, so no worker idles while the client reads an answer and sends the next request.
CONCURRENCY = 2 * WORKERS
BASELINE_SECONDS = 5.0  # at most: a tight loop settles in far fewer seconds than the load


@dataclass(frozen=True)
class ApiFigure:
    endpoint: str
    urls: int  # distinct URLs cycled through
    served: Latencies  # through gunicorn, measured by the load generator, page cache on
    computed: Latencies  # the same with the page cache off: every page computed
    queries: int  # SQL queries per request: the most any of the endpoint's URLs made
    baseline: Latencies  # psycopg + json.dumps, as many processes as gunicorn has workers
    page_bytes: int  # the API's answer to the first URL
    baseline_bytes: int  # the baseline's page for the same rows


def _shown(key: str, page: dict) -> list:
    """What a page shows, by id, to check that the baseline selects the same rows."""
    if key == "fact_detail":
        return [claim["id"] for claim in page["claims"]]
    if key == "fact_list":
        return [(fact["id"], [c["id"] for c in fact["claims"]]) for fact in page["results"]]
    if key == "change_feed":
        return [(entry["position"], entry.get("content_digest")) for entry in page["results"]]
    return [claim["id"] for claim in page["results"]]


def _count_and_compare(url: str, endpoint) -> tuple[int, int, int]:
    """Queries per request (the most over the endpoint's URLs), and the sizes of the API's
    and the baseline's first page, once the baseline is checked to show the same records."""
    most, sizes = 0, None
    with database.connect(url) as connection:
        for path, argument in zip(endpoint.paths, endpoint.arguments, strict=True):
            answer = api_queries.request(path)
            most = max(most, len(answer.queries))
            raw = api_baseline.page_bytes(connection, endpoint.key, argument)
            if _shown(endpoint.key, json.loads(raw)) != _shown(endpoint.key, answer.page):
                raise AssertionError(f"the baseline does not show what {path} shows")
            if sizes is None:
                sizes = (answer.size, len(raw))
    return most, *sizes


def _load(server, paths: list[str], seconds: float, concurrency: int) -> Latencies:
    job = {
        "host": api_server.HOST,
        "port": server.port,
        "paths": paths,
        "concurrency": concurrency,
        "warmup": WARMUP_SECONDS,
        "seconds": seconds,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bench.load_generator"],
        cwd=ROOT,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        timeout=WARMUP_SECONDS + seconds + 120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{result.stderr[-3000:]}")
    outcome = json.loads(result.stdout)
    if outcome["errors"]:
        raise RuntimeError(f"the API answered with errors under load: {outcome['errors']}")
    return Latencies.of(outcome["milliseconds"], outcome["seconds"])


def _baseline(url: str, endpoint, seconds: float) -> Latencies:
    args = (url, endpoint.key, endpoint.arguments, seconds)
    timed = run_in_processes("bench.api_baseline:loop", [args] * WORKERS)
    latencies = [value for values in timed.values for value in values]
    return Latencies.of(latencies, timed.seconds)


@dataclass(frozen=True)
class ApiResults:
    figures: list[ApiFigure]
    seconds: float  # measured per endpoint, after the warm-up
    workers: int
    concurrency: int
    profiled: str  # the endpoint profiled in process
    profiled_ms: float  # its mean time per request in process, without the profiler
    profile: list  # bench.api_profile.Part
    connect_ms: float  # opening a PostgreSQL connection, what a request without a pool pays


def measure(url: str, *, seconds: float = DEFAULT_SECONDS, log=print) -> ApiResults:
    """Every endpoint: queries and the baseline's rows checked in process, then gunicorn under
    load, then the baseline; and a profile of the fact list. Needs Django set up against
    ``url``."""
    from bench import api_endpoints, api_profile

    endpoints = api_endpoints.choose()
    checked = {endpoint.key: _count_and_compare(url, endpoint) for endpoint in endpoints}
    served, computed = {}, {}
    for page_cache, results in ((True, served), (False, computed)):
        how = "pages from the cache" if page_cache else "every page computed"
        with api_server.running(url, workers=WORKERS, page_cache=page_cache) as server:
            for endpoint in endpoints:
                log(f"API under load, {how}: {endpoint.name}, {seconds:.0f} s")
                results[endpoint.key] = _load(server, endpoint.paths, seconds, CONCURRENCY)
    figures = []
    for endpoint in endpoints:
        log(f"API baseline: {endpoint.name}")
        queries, page_bytes, baseline_bytes = checked[endpoint.key]
        figures.append(
            ApiFigure(
                endpoint=endpoint.name,
                urls=len(endpoint.paths),
                served=served[endpoint.key],
                computed=computed[endpoint.key],
                queries=queries,
                baseline=_baseline(url, endpoint, min(seconds, BASELINE_SECONDS)),
                page_bytes=page_bytes,
                baseline_bytes=baseline_bytes,
            )
        )
    log("API profile: fact list, in process")
    fact_list = endpoints[0]
    profiled_ms, profile = api_profile.profile(fact_list.paths[0])
    return ApiResults(
        figures=figures,
        seconds=seconds,
        workers=WORKERS,
        concurrency=CONCURRENCY,
        profiled=fact_list.name,
        profiled_ms=profiled_ms,
        profile=profile,
        connect_ms=api_baseline.connection_milliseconds(url),
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api_load", description=__doc__)
    parser.add_argument("--database", required=True, help="an already built benchmark database")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="per endpoint")
    options = parser.parse_args(argv)
    url = database.with_database(database.admin_url(), options.database)
    os.environ["DATABASE_URL"] = url  # read by the settings, here and in worker processes
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")
    import django

    django.setup()
    from bench import report

    results = measure(url, seconds=options.seconds, log=lambda text: print(text, file=sys.stderr))
    print(report.api_section(results, "this archive"))


if __name__ == "__main__":
    main()
