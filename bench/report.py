"""The results as markdown: a table for the terminal, and docs/performance.md around it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime

MB = 1_000_000

# The targets, on this 2-core machine at 1M events.
TARGETS = [
    ("rebuild", "events/s", 20_000, "≥ 20,000 events/s"),
    ("verify", "events/s", 100_000, "≥ 100,000 events/s"),
    ("rebuild", "peak MB", 300, "< 300 MB RSS"),
    ("verify", "peak MB", 300, "< 300 MB RSS"),
]


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    unit: str
    spread: tuple[float, float]
    extra: str  # e.g. the claims/s beside events/s, or peak memory
    baseline: str
    baseline_value: float | None


def number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ratio(value: float, baseline: float | None) -> str:
    if not baseline:
        return ""
    fraction = value / baseline
    return f"{fraction:.2g} (1/{baseline / value:,.0f})" if fraction < 1 else f"{fraction:.2g}"


def results_table(rows: list[Row], runs: int) -> str:
    lines = [
        f"| figure | Strata (median of {runs}) | range | baseline | baseline (median) "
        "| Strata ÷ baseline |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        low, high = row.spread
        value = f"{number(row.value)} {row.unit}" + (f", {row.extra}" if row.extra else "")
        base = f"{number(row.baseline_value)} {row.unit}" if row.baseline_value else ""
        lines.append(
            f"| {row.figure} | {value} | {number(low)}–{number(high)} | {row.baseline} | {base} "
            f"| {ratio(row.value, row.baseline_value)} |"
        )
    return "\n".join(lines)


def targets_table(achieved: dict[tuple[str, str], float], scale_label: str) -> str:
    lines = [
        f"| target at 1M events | measured at {scale_label} | met at {scale_label}? |",
        "|---|---|---|",
    ]
    for figure, unit, bound, text in TARGETS:
        value = achieved[(figure, unit)]
        met = value >= bound if unit == "events/s" else value < bound
        shown = f"{number(value)} events/s" if unit == "events/s" else f"{value:,.0f} MB peak"
        lines.append(f"| {figure} {text} | {shown} | {'met' if met else '**missed**'} |")
    lines.append(
        "\nA memory target met at a smaller scale says little about 1M events: verify's peak\n"
        "grows with the archive (see *Where the time goes*), rebuild's should not (it reads the\n"
        "log in pages)."
    )
    return "\n".join(lines)


def machine_table(machine: dict, load_at_end: float) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in sorted(machine["postgresql_settings"].items()))
    rows = [
        ("CPU", f"{machine['cores']} cores, {machine['cpu']}"),
        ("memory", f"{machine['memory_bytes'] / 1e9:.1f} GB"),
        ("PostgreSQL", f"{machine['postgresql']} ({settings}), on the same machine"),
        ("Python, Django", f"{machine['python']}, {machine['django']}"),
        ("commit", machine["commit"]),
        (
            "load average (1 min) at start; at end, with the benchmark's own",
            f"{machine['load_at_start']:.2f}; {load_at_end:.2f} (on {machine['cores']} cores)",
        ),
        ("other active PostgreSQL sessions at start", str(machine["other_active_sessions"])),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def busy(machine: dict) -> bool:
    """Busy: before the benchmark started, something else kept a sizeable share of the CPUs or
    was using the database server. (Later load averages include the benchmark's own.)"""
    cores = machine["cores"] or 1
    return machine["load_at_start"] > 0.5 * cores or bool(machine["other_active_sessions"])


EXPLANATIONS = """\
## What each figure is

- **Command throughput** (1 and {writers} writers): each writer is a separate process (the GIL
  would serialise threads) with its own dossier: it registers its claims ({claims} per writer
  per run), revises them, submits them, and has them reviewed (comments, requested changes,
  approval, sometimes a rank, a retraction or a later revision), every step through
  `records.commands` exactly as the admin calls them. The dossier's sources and subjects are
  published first and not timed. Claims/s counts claims taken all the way through; events/s
  counts every event they appended. The writers run on top of the archive built for the run,
  so the log is at least that large.
  *Baselines*: the very event rows those commands stored, inserted with raw psycopg by as many
  processes into a scratch table shaped like `records_event` (same columns, keys and indexes,
  no triggers): once in one transaction per command, as the event store commits, and once all
  in one transaction (batched). They check nothing, take no lock, hash nothing and project
  nothing: the ratio is what validation, the workflow, the append lock, the hash chain and the
  read models cost per event.
- **Rebuild**: `manage.py rebuild_projections` in a fresh process: it empties every read model
  and history table and replays the whole log in one transaction. Events/s is the log's events
  over the command's time (Django's start-up excluded); peak memory is the process's maximum
  resident set (`ru_maxrss`), Django's own ~{django_mb} MB included. *Baseline*: reading the
  same log with psycopg through a server-side cursor, in pages as the replay reads it.
- **Verify**: `manage.py verify_archive` likewise: it checks the hash chain, then rebuilds in a
  transaction that it rolls back and compares every read-model and history row with the live
  ones. *Baseline*: SHA-256 over exactly the bytes the chain covers (each event's metadata,
  content and link: three digests, as the chain check computes them), hashing only: reading and
  serialising are not timed. Each recomputed hash is compared with the stored one, which proves
  the bytes are the same.
- **Verify's chain check alone**: `records.hashing.verify_chain` over `iter_log()`, verify's
  first step, in a fresh process, to show how much of verify is the chain and how much the
  replay; same baseline.

Each figure is the median of the runs; "range" is the lowest and highest run. MB are 10⁶ bytes.
"""

WHERE_THE_TIME_GOES = """\
## Where the time goes

From a profile of `records.replay.rebuild` on a small bench archive (cProfile, with query
logging), which explains why the figures are hundreds of events per second, not thousands:

- **The replay is one event at a time through the ORM.** Each event costs about four SQL round
  trips: reading the record (`objects.get`), saving it (Django's `save()` on a model whose id is
  set first tries an `UPDATE`, then `INSERT`s a new record, so registrations cost two), and a
  history row `INSERT` from django-simple-history's `post_save` signal (about a third of the
  replay's time). Nothing is batched, and nothing is kept in memory between events. Reaching
  20,000 events/s needs a replay that holds each page's records in memory and writes them (and
  their history rows) with `bulk_create`/`bulk_update`, not tuning of the current loop.
- **Commands** pay the same projection cost, plus validation, the retry checks and the append
  lock, and the lock is held while projecting. So writers overlap only the work before the
  lock (loading and validating); appending and projecting go one writer at a time, and
  throughput grows far less than the number of writers (compare the two *commands* rows).
- **Verify** is the chain check plus a full rebuild (rolled back), plus `replay.snapshot()`,
  which loads every row of every read-model and history table into Python, twice (live and
  replayed). The chain check alone has its own row above; the rebuild dominates. The
  snapshots make verify's memory grow with the archive, so as written it will not stay under
  300 MB at 1M events; comparing in pages, or by digests, would.
"""

GAPS = """\
## Not measured yet

- **100k and 1M events.** The targets are set at 1M events; this run used {scale_label}. The
  archive is built through the commands at about the single writer's throughput above (more
  writers help little, see above), so at tens of events per second 1M events takes the best
  part of a day, and 100k about an hour: `make bench SCALE=100k` (or `1M`: one run per figure
  by default above 100k).
- **Bulk import** and **the public API under gunicorn**: later slices of the benchmark issue.
- The writers' figures come from a few dozen claims per run (`--claims-per-writer`); their
  range shows how much they move from run to run.
"""


def document(
    *,
    scale_label: str,
    runs: int,
    writers: int,
    machine: dict,
    load_at_end: float,
    archive: str,
    rows: list[Row],
    achieved: dict,
    django_mb: float,
    minutes: float,
    claims_per_writer: int,
) -> str:
    taken = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    note = ""
    if busy(machine):
        sessions = machine["other_active_sessions"]
        shared = "the CPUs and the database server" if sessions else "the CPUs"
        note = (
            "\n"
            + textwrap.fill(
                "**The machine was busy** while these figures were taken (load average "
                f"{machine['load_at_start']:.1f} on {machine['cores']} cores before the benchmark "
                f"started; {sessions} other active PostgreSQL sessions): other people's test "
                f"runs shared {shared}. Read the absolute figures as "
                "lower bounds; the ratios to the baselines, taken in the same run, hold up better.",
                width=98,
                initial_indent="> ",
                subsequent_indent="> ",
            )
            + "\n"
        )
    return f"""# Performance

Figures from `make bench SCALE={scale_label}` on {taken}, on PostgreSQL; the whole run took
{minutes:.0f} minutes. `make bench` rewrites this file; the code is in `bench/`
(`bench/generate.py` builds the archive, `bench/run.py` measures).
{note}
## Machine

{machine_table(machine, load_at_end)}

## The archive

{textwrap.fill(archive, width=100)}

## Results

{results_table(rows, runs)}

## Targets

{targets_table(achieved, scale_label)}

{EXPLANATIONS.format(writers=writers, django_mb=f"{django_mb:.0f}", claims=claims_per_writer)}
{WHERE_THE_TIME_GOES}
{GAPS.format(scale_label=scale_label)}
## Running it

```sh
make bench                # SCALE=10k: about ten thousand events
make bench SCALE=100k     # or 1M; RUNS=5 for more runs per figure
```

It drops and recreates the database `strata_bench` on the PostgreSQL server that
`DATABASE_URL` names (by default `postgres://postgres@127.0.0.1:5432/postgres`), builds the
archive there through the commands (deterministic for a seed: `python -m bench.run --seed 1`),
measures, prints the results table and rewrites this file. It is not part of `make test`.
"""
