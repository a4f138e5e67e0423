"""SQL queries per API request, counted in this process with Django's test client against the
benchmark database: the same code gunicorn runs, with every query captured.

Needs Django set up against the benchmark database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    queries: list[str]  # the SQL of each query the request made
    page: dict  # the decoded JSON answer
    size: int  # the answer's body, in bytes


def request(path: str) -> Answer:
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # A page computed, not one served from the page cache (records/api/page_cache.py): what
    # the first request for a URL after an append costs, the log's head lookup included.
    caches["api_pages"].clear()
    # Loopback as the host, which ALLOWED_HOSTS admits outside the test runner too.
    client = Client(SERVER_NAME="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_ACCEPT="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:500]!r}")
    queries = [query["sql"] for query in captured.captured_queries]
    return Answer(queries, json.loads(response.content), len(response.content))
