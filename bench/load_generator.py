"""A closed-loop HTTP load generator, run in a process of its own so that its work is not
counted in the server's processes (though it shares the machine's cores with them).

    python -m bench.load_generator < job.json > result.json

The job: ``{"host", "port", "paths", "concurrency", "warmup", "seconds"}``. ``concurrency``
threads each hold one HTTP/1.1 connection (kept alive if the server allows; reopened when the
server closes it) and send the next request as soon as the previous answer is read, cycling
through ``paths`` (each thread from its own offset, so the paths are spread across clients).
Answers that end during the first ``warmup`` seconds are discarded: they pay for the workers'
first imports, connections and cold caches. Those that end in the next ``seconds`` are
counted. The result: their latencies (milliseconds, from sending the request to reading the
whole body), the window's length, and any answer that was not a 200 (which the caller treats
as a failure: an error page is not a measurement).

Threads, not processes: a thread spends nearly all its time waiting on its socket, which
releases the GIL, so a few threads keep a two-worker server busy at a small cost in CPU.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time


def _drive(job: dict, offset: int, start: float, results: list, errors: list) -> None:
    try:
        _requests(job, offset, start, results, errors)
    except Exception as error:  # a dropped connection would otherwise just lower the count
        errors.append(repr(error))


def _requests(job: dict, offset: int, start: float, results: list, errors: list) -> None:
    paths = job["paths"]
    counted_from = start + job["warmup"]
    stop = counted_from + job["seconds"]
    connection = http.client.HTTPConnection(job["host"], job["port"], timeout=60)
    index = offset
    while True:
        path = paths[index % len(paths)]
        index += 1
        sent = time.perf_counter()
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()  # the whole body, or the connection cannot be reused
        ended = time.perf_counter()
        if ended > stop:
            break
        if response.status != 200:
            errors.append(f"{response.status} for {path}")
        elif ended >= counted_from:
            results.append((ended - sent) * 1000)
    connection.close()


def run(job: dict) -> dict:
    results: list[float] = []  # list.append is atomic under the GIL
    errors: list[str] = []
    start = time.perf_counter()
    threads = [
        threading.Thread(target=_drive, args=(job, offset, start, results, errors))
        for offset in range(job["concurrency"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"milliseconds": results, "seconds": job["seconds"], "errors": errors[:10]}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
