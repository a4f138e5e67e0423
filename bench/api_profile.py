"""Where one API request's time goes: cProfile over requests made in this process with
Django's test client, split into the view's parts. The profiler slows Python code more than it
slows waiting on PostgreSQL, so the shares are approximate; the order of the parts is what
matters.

Needs Django set up against the benchmark database.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from dataclasses import dataclass

from bench import api_queries


@dataclass(frozen=True)
class Part:
    name: str
    milliseconds: float  # per request, under the profiler
    share: float  # of the whole request, under the profiler


def _cumulative(stats: pstats.Stats, path_end: str, function: str) -> float:
    """Seconds spent in (and under) every function ``function`` defined in a file whose path
    ends with ``path_end``, counting recursive calls once (cProfile's cumulative time)."""
    return sum(
        cumulative
        for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items()
        if name == function and path.replace("\\", "/").endswith(path_end)
    )


def profile(path: str, requests: int = 20) -> tuple[float, list[Part]]:
    """The request's mean time without the profiler (ms), and its parts under the profiler."""
    api_queries.request(path)  # warm: imports, the connection, the query plans
    started = time.perf_counter()
    for _ in range(requests):
        api_queries.request(path)
    plain = (time.perf_counter() - started) * 1000 / requests

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        api_queries.request(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    whole = _cumulative(stats, "bench/api_queries.py", "request")
    serialize = _cumulative(stats, "records/api/views.py", "_serialize")
    related = _cumulative(stats, "records/api/views.py", "related")  # the viewset's hook
    parts = {
        "the page's query (filters, cursor pagination)": _cumulative(
            stats, "records/api/pagination.py", "paginate_queryset"
        ),
        "related records: claims, subjects, sources, properties (SQL and model instances)": (
            related
        ),
        "DRF serializers (records/api/serializers.py)": serialize - related,
        "JSON rendering": _cumulative(stats, "rest_framework/renderers.py", "render"),
    }
    parts["the rest: Django's request handling, middleware (ETag), test client"] = whole - sum(
        parts.values()
    )
    waiting = _cumulative(stats, "psycopg/connection.py", "wait")
    result = [
        Part(name, seconds * 1000 / requests, seconds / whole) for name, seconds in parts.items()
    ]
    result.append(
        Part("of all of which, waiting on PostgreSQL", waiting * 1000 / requests, waiting / whole)
    )
    return plain, result
