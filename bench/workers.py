"""Run one function in several processes at once and time them together.

Processes, not threads: the commands spend much of their time in Python, which the GIL would
serialise, so threads would measure the GIL rather than the archive. Each process is spawned
afresh (no Django state or database connection is inherited), sets Django up, and then waits
at a barrier, so start-up is not timed. The wall time is from the first start to the last end,
read on the system-wide monotonic clock, which all processes share.
"""

from __future__ import annotations

import importlib
import multiprocessing
import queue
import time
import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class Timed:
    seconds: float
    values: list


def _child(target: str, args: tuple, index: int, barrier, results) -> None:
    try:
        import django

        django.setup()
        module, name = target.split(":")
        function = getattr(importlib.import_module(module), name)
        barrier.wait()
        start = time.monotonic()
        value = function(*args)
        results.put((index, start, time.monotonic(), value, None))
    except BaseException:
        barrier.abort()  # the others would wait for this one for ever
        results.put((index, 0.0, 0.0, None, traceback.format_exc()))


def run_in_processes(target: str, args_list: list[tuple]) -> Timed:
    """Call ``target`` ("module:function") once per args tuple, each in its own process, all
    starting together; return the wall time and each call's return value, in order."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(args_list)), context.Queue()
    processes = [
        context.Process(target=_child, args=(target, args, index, barrier, results))
        for index, args in enumerate(args_list)
    ]
    for process in processes:
        process.start()
    outcomes = []
    while len(outcomes) < len(processes):
        try:
            outcomes.append(results.get(timeout=5))
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                # It died before it could report: its traceback, if any, is on stderr.
                raise RuntimeError(f"a {target} process died without reporting") from None
    for process in processes:
        process.join()
    failures = [error for *_, error in outcomes if error]
    if failures:
        raise RuntimeError(f"{target} failed in a worker process:\n{failures[0]}")
    outcomes.sort()
    return Timed(
        seconds=max(end for _, _, end, _, _ in outcomes)
        - min(start for _, start, _, _, _ in outcomes),
        values=[value for _, _, _, value, _ in outcomes],
    )
