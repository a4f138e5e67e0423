"""``make bench``: build an archive at a chosen scale on PostgreSQL, measure, report.

    python -m bench.run --scale 10k [--runs 3] [--writers 4] [--seed 0] [--output FILE]

The database ``strata_bench`` is dropped and created afresh on the server DATABASE_URL names,
migrated, and filled through the commands; then each figure is measured ``--runs`` times
beside its baseline, and the medians go to standard output and to docs/performance.md. Last,
the public API under gunicorn (bench.api_load), ``--api-seconds`` per endpoint, in one run.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

from bench import database
from bench.api_load import DEFAULT_SECONDS as API_SECONDS

ROOT = Path(__file__).resolve().parent.parent


def parse_scale(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scale such as 10k, 100k or 1M")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="10k", help="events in the archive: 10k, 100k, 1M")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; 1 above 100k)")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers (default 4)")
    parser.add_argument(
        "--claims-per-writer",
        type=int,
        default=15,
        help="claims each writer takes through review per throughput run (default 15)",
    )
    parser.add_argument(
        "--api-seconds",
        type=float,
        default=API_SECONDS,
        help=f"seconds of load per API endpoint, after a warm-up (default {API_SECONDS:.0f})",
    )
    parser.add_argument(
        "--base",
        type=parse_scale,
        default=10_000,
        help="events built through the commands; the rest is tiled (default 10k)",
    )
    parser.add_argument(
        "--import-lines",
        type=parse_scale,
        default=20_000,
        help="lines of the catalogue each bulk import run imports (default 20k)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the archive's seed (default 0)")
    parser.add_argument("--database", default="strata_bench", help="database to (re)create")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    options = parser.parse_args(argv)
    options.events = parse_scale(options.scale)
    if options.runs is None:
        options.runs = 3 if options.events <= 100_000 else 1
    return options


def _setup_django(url: str) -> None:
    # Settings read DATABASE_URL when Django sets up, and worker processes inherit it.
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")
    import django

    django.setup()


def _build(options, console) -> str:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bench.generate import generate
    from bench.tile import tile
    from records.models import Claim, Fact, Source, StoredEvent, Subject
    from records.replay import rebuild

    base = min(options.events, options.base)
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Building the archive (events)", total=base)
        built = generate(
            base,
            seed=options.seed,
            on_progress=lambda size: progress.update(task, completed=min(size, base)),
        )
    how = (
        f"built through the commands by one writer in {built.seconds:,.0f} s "
        f"({built.events / built.seconds:,.0f} events/s)"
    )
    if options.events > built.events:
        started = time.monotonic()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("Tiling the archive (events)", total=options.events)
            tile(options.events, on_progress=lambda size: progress.update(task, completed=size))
        rebuild()  # project the copies
        how = (
            f"the first {built.events:,} {how}, then tiled (`bench/tile.py`: copies of that log "
            f"with fresh ids, appended and projected in {time.monotonic() - started:,.0f} s)"
        )
    claims = Claim.objects.count()
    return (
        f"{StoredEvent.objects.count():,} events (asked for {options.scale}, seed "
        f"{options.seed}), {how}: {Source.objects.count():,} sources with full text, "
        f"{Subject.objects.count():,} subjects named in Latin, Han (simplified and traditional), "
        f"Japanese kanji and kana, Cyrillic and Arabic scripts, {Fact.objects.count():,} facts "
        f"with {claims:,} claims ({claims / Fact.objects.count():.1f} per fact, conflicting, "
        f"each quoting its source), {StoredEvent.objects.count() / claims:.1f} events per claim "
        "overall."
    )


def _bulk_import(options, url, console, achieved):
    """Import a catalogue of ``--import-lines`` lines per run, each run with ids of its own,
    beside the same event rows inserted with psycopg in one transaction."""
    import tempfile

    from bench import import_file, measure, report
    from bench.generate import log_size, team

    actor = team().archivist.get_username()
    speed, peak, base = measure.Samples(), measure.Samples(), measure.Samples()
    steps: dict[str, measure.Samples] = {}
    with tempfile.TemporaryDirectory() as folder:
        for run in range(options.runs):
            console.print(f"import_claims, run {run + 1} of {options.runs}")
            path = Path(folder) / f"catalogue-{run}.jsonl"
            kinds = import_file.write(path, run, options.import_lines)
            first = log_size()
            database.vacuum(url)
            result = measure.maintenance_command("import_claims", url, str(path), actor)
            speed.add(result["events"] / result["seconds"])
            peak.add(result["peak_rss_bytes"] / report.MB)
            for step, seconds in result["steps"].items():
                steps.setdefault(step, measure.Samples()).add(seconds)
            base.add(measure.insert_baseline(url, first, 1, True))
    achieved[("bulk import", "events/s")] = speed.median
    return report.Row(
        "bulk import (`import_claims`)",
        speed.median,
        "events/s",
        speed.spread,
        f"{kinds.total():,} lines ({kinds['claim']:,} claims), peak {peak.median:,.0f} MB; "
        + ", ".join(f"{step} {spent.median:.1f} s" for step, spent in steps.items()),
        "psycopg inserts, batched",
        base.median,
    )


def main(argv=None) -> None:
    options = arguments(argv)
    started = time.monotonic()
    from rich.console import Console

    console = Console(stderr=True)
    url = database.recreate(database.admin_url(), options.database)
    _setup_django(url)
    from django.core.management import call_command

    from bench import api_load, baselines, machine, measure, report

    call_command("migrate", verbosity=0)
    database.create_scratch_table(url)
    about = machine.describe(url)
    archive = _build(options, console)
    console.print(archive)
    database.vacuum(url)

    runs = range(options.runs)
    rows, achieved, rss_before = [], {}, []
    for command, figure, baseline_name, baseline in (
        ("rebuild_projections", "rebuild", "psycopg read of the log", baselines.read_log),
        ("verify_archive", "verify", "sha256 over the same bytes", baselines.hash_log),
        ("chain", "verify's chain check alone", "sha256 over the same bytes", baselines.hash_log),
        ("export_events", "export", "psycopg read of the log", baselines.read_log),
    ):
        speed, peak, base = measure.Samples(), measure.Samples(), measure.Samples()
        for run in runs:
            console.print(f"{command}, run {run + 1} of {options.runs}")
            database.vacuum(url)  # not timed: the last run's dead rows are not this one's cost
            result = measure.maintenance_command(command, url)
            speed.add(result["events"] / result["seconds"])
            peak.add(result["peak_rss_bytes"] / report.MB)
            rss_before.append(result["rss_before_bytes"] / report.MB)
            events, seconds = baseline(url)
            base.add(events / seconds)
        rows.append(
            report.Row(
                figure if command == "chain" else f"{figure} (`{command}`)",
                speed.median,
                "events/s",
                speed.spread,
                f"peak {peak.median:,.0f} MB",
                baseline_name,
                base.median,
            )
        )
        achieved[(figure, "events/s")], achieved[(figure, "peak MB")] = speed.median, peak.median

    rows.append(_bulk_import(options, url, console, achieved))

    for writers in sorted({1, options.writers}):
        claims, events, per_command, batched = (measure.Samples() for _ in range(4))
        for run in runs:
            console.print(f"command throughput, {writers} writer(s), run {run + 1}")
            facts = max(1, round(options.claims_per_writer / 3))  # three claims per fact
            result = measure.command_throughput(options.seed, run, writers, facts)
            claims.add(result.claims / result.seconds)
            events.add(result.events / result.seconds)
            per_command.add(measure.insert_baseline(url, result.first_position, writers, False))
            batched.add(measure.insert_baseline(url, result.first_position, writers, True))
        figure = f"commands, {writers} writer{'s' if writers > 1 else ''}"
        extra = f"{claims.median:,.1f} claims/s"
        for name, base in (
            ("psycopg inserts, a transaction per command", per_command),
            ("psycopg inserts, batched", batched),
        ):
            rows.append(
                report.Row(
                    figure, events.median, "events/s", events.spread, extra, name, base.median
                )
            )

    database.vacuum(url)
    api = api_load.measure(url, seconds=options.api_seconds, log=console.print)

    runs_label = options.runs
    table = report.results_table(rows, runs_label)
    print(table)
    print(report.api_section(api, options.scale))
    text = report.document(
        scale_label=options.scale,
        runs=runs_label,
        writers=options.writers,
        machine=about,
        load_at_end=machine.load(),
        archive=archive,
        rows=rows,
        achieved=achieved,
        django_mb=min(rss_before),
        minutes=(time.monotonic() - started) / 60,
        claims_per_writer=options.claims_per_writer,
        api=api,
    )
    Path(options.output).write_text(text, encoding="utf-8")
    console.print(f"Wrote {options.output}")


if __name__ == "__main__":
    main()
