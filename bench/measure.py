"""Each figure, measured once; bench.run repeats them and takes the medians.

Needs Django set up against the benchmark database (bench.run does it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import median

from bench import baselines
from bench.generate import log_size, team, write_claims, write_records
from bench.plan import plan_dossier
from bench.workers import run_in_processes

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Samples:
    """One figure's runs (per second, higher is better, unless noted)."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.values), max(self.values)


def maintenance_command(command: str, url: str, *arguments: str) -> dict:
    """Run rebuild_projections, verify_archive or import_claims in a fresh process
    (bench.child); its report: seconds, events, peak resident memory."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.child", command, *arguments],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _claims_of(seed: int, label: str, index: int, facts: int) -> int:
    """What one writer process times: the claims on the first ``facts`` facts of its own
    dossier, through the commands."""
    from bench.generate import define_properties

    crew = team()
    dossier = plan_dossier(seed, label, index)
    dossier = replace(dossier, facts=dossier.facts[:facts])
    return write_claims(dossier, crew, define_properties(crew))


@dataclass(frozen=True)
class Throughput:
    claims: int
    events: int
    seconds: float
    first_position: int  # the run's events are the ones after this position


def command_throughput(seed: int, run: int, writers: int, facts: int) -> Throughput:
    """``writers`` processes at once, each taking its own claims (on its own facts, from its
    own dossier) through register, revisions, submission, review and approval. The dossiers'
    sources and subjects are published first, untimed: claims are what is measured."""
    label = f"throughput-{writers}w-{run}"
    crew = team()
    for writer in range(writers):
        write_records(plan_dossier(seed, label, writer), crew)
    before = log_size()
    timed = run_in_processes(
        "bench.measure:_claims_of", [(seed, label, writer, facts) for writer in range(writers)]
    )
    return Throughput(sum(timed.values), log_size() - before, timed.seconds, before)


def insert_baseline(url: str, after: int, writers: int, batched: bool) -> float:
    """The same event rows a throughput run stored, inserted with raw psycopg by as many
    writer processes, into the scratch table; returns events per second."""
    commands = baselines.commands_of(url, after)
    baselines.empty_scratch(url)
    shares = [commands[writer::writers] for writer in range(writers)]
    timed = run_in_processes(
        "bench.baselines:insert_events", [(url, share, batched) for share in shares]
    )
    return sum(timed.values) / timed.seconds
