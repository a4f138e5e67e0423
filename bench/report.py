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
    ("verify's chain check alone", "events/s", 100_000, "(verify's target)"),
    ("bulk import", "events/s", 10_000, "≥ 10,000 events/s"),
    ("rebuild", "peak MB", 300, "< 300 MB RSS"),
    ("verify", "peak MB", 300, "< 300 MB RSS"),
    ("export", "peak MB", 300, "< 300 MB RSS"),
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
        "\nRebuild, verify and export read the log in pages and keep nothing from one page to the\n"
        "next, and verify compares in SQL, so their peak should not grow with the archive; a run\n"
        "at 1M events is what shows it."
    )
    return "\n".join(lines)


# The targets for the public API, on this 2-core machine.
API_P95_MS = 50
API_PER_SECOND = 300
API_QUERIES = 6
FACT_LIST = "fact list"


def milliseconds(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _latencies(latencies) -> str:
    return (
        f"{number(latencies.per_second)} | {milliseconds(latencies.p50)} / "
        f"{milliseconds(latencies.p95)} / {milliseconds(latencies.p99)}"
    )


def api_table(figures: list, workers: int, concurrency: int) -> str:
    lines = [
        f"| endpoint (URLs cycled) | req/s, gunicorn {workers} workers, {concurrency} "
        "clients, page cache on | p50 / p95 / p99 ms | req/s, page cache off | p50 / p95 / p99 "
        "ms | SQL queries per computed page | baseline: psycopg + json.dumps, pages/s | "
        "baseline p50 / p95 / p99 ms | req/s ÷ baseline (cache on; off) | bytes, API / "
        "baseline |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        served, computed, base = figure.served, figure.computed, figure.baseline
        lines.append(
            f"| {figure.endpoint} ({figure.urls}) | {_latencies(served)} | {_latencies(computed)} "
            f"| {figure.queries} | {_latencies(base)} "
            f"| {ratio(served.per_second, base.per_second)}; "
            f"{ratio(computed.per_second, base.per_second)} "
            f"| {figure.page_bytes:,} / {figure.baseline_bytes:,} |"
        )
    return "\n".join(lines)


def api_targets_table(figures: list, scale_label: str) -> str:
    fact_list = next(figure for figure in figures if figure.endpoint == FACT_LIST)
    most = max(figures, key=lambda figure: figure.queries)
    rows = []
    for how, latencies in (
        ("pages from the cache", fact_list.served),
        ("every page computed", fact_list.computed),
    ):
        rows += [
            (
                f"fact list p95 ≤ {API_P95_MS} ms ({how})",
                f"{milliseconds(latencies.p95)} ms",
                latencies.p95 <= API_P95_MS,
            ),
            (
                f"fact list ≥ {API_PER_SECOND} requests/s ({how})",
                f"{number(latencies.per_second)} requests/s",
                latencies.per_second >= API_PER_SECOND,
            ),
        ]
    rows.append(
        (
            f"at most {API_QUERIES} SQL queries per request",
            f"{most.queries} ({most.endpoint}, the most of any endpoint)",
            most.queries <= API_QUERIES,
        )
    )
    lines = [f"| API target | measured at {scale_label} | met? |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {'met' if ok else '**missed**'} |" for t, m, ok in rows]
    return "\n".join(lines)


def profile_table(results) -> str:
    lines = ["| part of the request | ms per request (profiled) | share |", "|---|---|---|"]
    for part in results.profile:
        lines.append(f"| {part.name} | {milliseconds(part.milliseconds)} | {part.share:.0%} |")
    return "\n".join(lines)


def _connections(connect_ms: float, database: dict | None = None) -> str:
    """How gunicorn's workers come by their PostgreSQL connections, under the settings this run
    gave them (the benchmark's environment is theirs): a pool, kept ones, or one per request."""
    if database is None:
        from django.conf import settings

        database = settings.DATABASES["default"]
    cost = f"{milliseconds(connect_ms)} ms with psycopg alone, measured in this run"
    pool = database.get("OPTIONS", {}).get("pool")
    if pool:
        sizes = (
            f", {pool['min_size']} to {pool['max_size']} a worker" if isinstance(pool, dict) else ""
        )
        checked = ", checked with one round trip" if database.get("CONN_HEALTH_CHECKS") else ""
        return (
            "Each worker keeps a pool of open PostgreSQL connections (psycopg's pool, "
            f"`DB_POOL`{sizes}), so a request takes one from it{checked}, instead of opening "
            f"one ({cost})."
        )
    kept = database["CONN_MAX_AGE"]
    if kept is None:
        return (
            "Each worker keeps its PostgreSQL connection for good (`DB_CONN_MAX_AGE=none`), so "
            f"the cost of opening one ({cost}) is paid once a worker."
        )
    if kept == 0:
        return (
            "Every request opens a new PostgreSQL connection (`DB_CONN_MAX_AGE=0`): "
            f"{cost}, which weighs most on the small pages (fact detail)."
        )
    return (
        f"Each worker keeps its PostgreSQL connection for {kept} s (`DB_CONN_MAX_AGE`), so the "
        f"cost of opening one ({cost}) is paid about once a minute, not once a request."
    )


def api_bounds(results) -> str:
    """What limits the API's figures, in the measured numbers of this run."""
    from bench.api_baseline import PAGE_SIZE

    fact_list = next(figure for figure in results.figures if figure.endpoint == FACT_LIST)
    base = fact_list.baseline
    reach = "within" if base.per_second >= API_PER_SECOND else "beyond"
    largest = max(results.profile[:-1], key=lambda part: part.share)
    return textwrap.fill(
        f"The fact list's first page is {fact_list.page_bytes:,} bytes of JSON: {PAGE_SIZE} "
        "facts, each with every published claim on it side by side, each claim with its "
        "citation and quote. Even the baseline (one SELECT and `json.dumps`, no framework, "
        f"{results.workers} processes) builds {number(base.per_second)} such pages a second "
        f"(p95 {milliseconds(base.p95)} ms), so {API_PER_SECOND} requests/s at this page size "
        f"is {reach} what Python and PostgreSQL alone reach on this machine. In process, one "
        f"request takes {milliseconds(results.profiled_ms)} ms of one core, which caps "
        f"{results.workers} workers at about {results.workers * 1000 / results.profiled_ms:,.0f}"
        " requests/s before HTTP, the connection and PostgreSQL take their share of the cores; "
        f"the largest part is {largest.name.split(' (')[0]} ({largest.share:.0%} under the "
        "profiler, table below). "
        f"{_connections(results.connect_ms)} The load "
        f"generator, gunicorn's {results.workers} workers and PostgreSQL share the machine's "
        "cores, so requests/s is bounded by the CPU time per request, and with "
        f"{results.concurrency} requests in flight the latency by requests/s (Little's law: "
        "mean latency = requests in flight ÷ requests/s).",
        width=98,
    )


def api_explanations(results) -> str:
    from bench.api_baseline import FEED_PAGE_SIZE, PAGE_SIZE
    from bench.api_endpoints import FACT_DETAILS
    from bench.api_load import BASELINE_SECONDS, WARMUP_SECONDS

    return API_EXPLANATIONS.format(
        workers=results.workers,
        concurrency=results.concurrency,
        seconds=results.seconds,
        warmup=WARMUP_SECONDS,
        queries=API_QUERIES,
        baseline_seconds=min(results.seconds, BASELINE_SECONDS),
        page=PAGE_SIZE,
        feed_page=FEED_PAGE_SIZE,
        details=FACT_DETAILS,
    )


def api_section(results, scale_label: str) -> str:
    return f"""{api_table(results.figures, results.workers, results.concurrency)}

{api_targets_table(results.figures, scale_label)}

### What bounds these figures

{api_bounds(results)}

Where a fact list request's time goes (cProfile over in-process requests with Django's test
client; the profiler inflates Python code more than waiting, so read the shares as an order):

{profile_table(results)}"""


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
- **Bulk import**: `manage.py import_claims` in a fresh process, on the benchmark archive, with
  a catalogue of the archive's published sources, subjects and claims written out as an import
  file (`bench/import_file.py`: source by source, each followed by the published claims citing
  it and the subjects they name, so that the file holds claims in the archive's proportion to
  sources however short it is cut, and subjects as the claims first name them; texts, names,
  values and quotes as published, ids of the run's own, repeated with other ids up to the lines
  asked for); one event per line. Events/s is the events it appended over the command's time
  (reading, checking every line as the commands do, appending, projecting, committing); the row
  gives the median seconds of each step, as the command reports them. *Baseline*: the very event
  rows it stored, inserted with psycopg in one transaction into the scratch table, as for the
  commands.
- **Verify's chain check alone**: `records.chain_check.check_log_chain`, verify's first
  step (the log read raw, in pages, the next page read while one is checked; from 200,000
  events, in two halves at once, the second in a process of its own whose memory the peak does
  not count), in a fresh process, to show how much of verify is the chain and how much the
  replay; same baseline.
"""

MEDIANS = """\
Each figure in *Results* is the median of the runs; "range" is the lowest and highest run. MB
are 10⁶ bytes. Before each timed run, and before the API's, the database is vacuumed and
analysed (`VACUUM (ANALYZE)`, not timed), as autovacuum would between bulk changes: the machine
table says whether autovacuum itself is on.
"""

API_EXPLANATIONS = """\
- **The public API under load**: gunicorn serving `archive.wsgi` on loopback, as in production
  ({workers} workers, one per core, of the default `sync` kind; `DEBUG` off; the throttle
  raised out of the way), against the benchmark archive. A load generator in a process of its
  own (`bench/load_generator.py`) runs {concurrency} clients, each sending its next request as
  soon as it has read the answer, for {seconds:.0f} s per endpoint after a {warmup:.0f} s
  warm-up that is not counted. The clients speak HTTP/1.1 keep-alive, but a `sync` worker
  closes the connection after each answer, so each request opens one on loopback: the `gthread`
  worker, which keeps them, let one worker take most of the connections while the other idled
  (see `bench/api_server.py`). Requests/s is the answers completed in those seconds; p50, p95
  and p99 are latency percentiles (nearest rank) from sending a request to reading the whole
  answer, waiting for a free worker included. Each endpoint cycles through real URLs chosen
  from the archive's published data: the fact list's first page ({page} facts); fact detail of
  {details} facts spread through the list; the claim list filtered by each of the properties
  with the most published claims (a page of up to {page} claims); the change feed's first page
  ({feed_page} events). Every answer must be a 200.
  *SQL queries per request*: every URL of the endpoint requested once in process through
  Django's test client against the same database, its queries captured
  (`CaptureQueriesContext`); the most any URL made (the issue's bound: {queries}).
  *Baseline*: for each endpoint, one raw psycopg SELECT of the same rows the page shows, joined
  with the subjects, properties and sources it names (for the change feed, bounded in bytes as
  the API's page is, and a second SELECT asking whether events follow, for its next link),
  shaped into a page with the same fields
  and encoded with `json.dumps` (the change feed's digests computed with hashlib, as the page
  shows them), in a loop over one kept connection, as many processes as gunicorn has workers,
  for up to {baseline_seconds:.0f} s; pages/s and latency per page. Before measuring, each
  baseline page is checked to show the same records, in the same order, as the API's answer
  for that URL; the last column compares their sizes. The ratio is what Django, DRF, the
  public gate, gunicorn and HTTP cost.
  *Page cache on and off*: the API keeps each rendered page per worker until the log moves
  (`records/api/page_cache.py`: the key holds the hash of the log's last event, so one lookup
  tells whether a page is still current). The load cycles through a handful of URLs, so with
  the cache on nearly every request is served from it (one query: the log's head): that is a
  reader's experience between appends. The run is repeated with the cache off
  (`API_PAGE_CACHE_ENTRIES=0`), every page computed: the first reader after an append, or a
  URL nobody asked for yet. SQL queries are counted on a computed page.
  The API figures come from one run of {seconds:.0f} s per endpoint and cache setting, whatever
  `--runs` says; each rests on req/s × {seconds:.0f} requests.
"""

WHERE_THE_TIME_GOES = """\
## Where the time goes

From profiles (cProfile) of `records.replay.rebuild`, the chain check and the commands on bench
archives of 10k and 50k events:

- **Rebuild replays the log in pages** (`records/batch_projection.py`, at most 2,000 events a
  page, fewer once they hold 4 MB: `records/log_pages.py`):
  the log is read as light rows (no model instance per event), one `in_bulk` query per model
  reads every record the page touches, the projector's handlers change those records in
  memory, and the page is written back with PostgreSQL's COPY: the changed records, one history
  row per change, the review comments. That took the replay from about 130 events/s (one event
  at a time through the ORM and django-simple-history's `post_save`, four round trips an event)
  to thousands. What is left splits about evenly between the two processes, which take turns:
  *Python* (per 50k events, about 2.8 s of CPU: the handlers building Django model instances
  and setting foreign keys through their descriptors 1.0 s, psycopg formatting COPY rows and
  encoding JSON 0.9 s, reading the log 0.5 s, reading records ahead 0.25 s) and *PostgreSQL*
  (about 2.5 s: half of the COPY into the claims' history was the upkeep of its ten indexes,
  seven of them on the records a working history links to, which no query reads it by: those
  are dropped since (migration 0005); the deferred foreign-key checks at commit about 0.5 s;
  emptying the tables 0.3 s). Reaching 20,000 events/s needs both halved: projecting into plain
  rows instead of model instances (a second projector to keep equal to the first), and the
  server inserting while Python projects the next page (a second connection cannot share the
  rebuild's transaction). Neither is done.
  Since that profile, the projector sets foreign keys by id, and the log's JSON is decoded and
  the COPY's JSON written by orjson wherever its result is exactly the standard library's
  (`records/json_codec.py`): about 9% off a replay of a 120k-event archive on the means of two
  runs each, side by side with the code before, in alternation (10,115 and 9,619 events/s
  before, 10,344 and 11,248 after: noisy, the pairs differ by 2% and 17%).
  Then, measured the same way on another machine (2026-12-01, where the same archive replays at
  about 3,500 events/s, so compare the ratios): the replay reads the log a page ahead in a thread
  (`records/read_ahead.py`), review comments are projected as rows of values instead of model
  instances, and the progress bar moves every 100 events instead of every one (rich's `advance`
  was 3% of a replay): about 7% (3,520 and 3,400 events/s before, 3,746 and 3,644 after). Two
  ideas measured there and dropped: dropping the projection tables' 58 secondary indexes and 28
  foreign keys for a rebuild and restoring them after gained 3% (30.4 s against 31.5 s), too
  little for locking every reader out of those tables meanwhile; psycopg's `QueuedLibpqWriter`
  (COPY's writing to the socket in a thread) lost 8%. The profile after these: COPY 43% of the
  replay's thread (formatting rows 19%, of which the history rows are three quarters; waiting
  on the socket for the server 12%), the handlers 29% (building Django model instances for new
  records most of it), reading records ahead 8% (`in_bulk` building instances), decoding the
  events 6%. The two processes' CPU over that rebuild: Python 23 s, the PostgreSQL backend
  12.5 s, in 30 s: they overlap only about 5 s, since the server inserts while a page's COPY
  streams but idles while Python projects the next page, and Python waits for the COPY's end.
  Building new records positionally instead of through Django's keyword constructor (five
  times faster, 77 to 16 µs a claim) gained nothing measurable in the same alternation (3,944
  and 3,926 events/s before, 3,911 and 3,961 after) and was not kept. So what bounds rebuild is
  the turn-taking: the next steps are the server writing one page while Python projects the
  next (which needs the page's records kept across pages, since the next page's reads must see
  them), then plain rows instead of model instances.
  COPY in PostgreSQL's binary format was then measured the same way (2026-12-01) and not
  kept. psycopg packs times, numbers and ids as they are stored instead of printing them for the
  server to parse back: on a 160k-event archive, over nine alternating pairs, the replay went
  from a median of 4,463 to 4,894 events/s (+10%). But binary COPY gives up the server's checks
  of a packed value, and psycopg's binary dumpers are lenient: a review of that change found an
  integer too large for its int4 column stored wrapped round (a rehashed, forged export restored
  a revision of 2³² + 2 as 2), any truthy value stored as true, and ids taken in forms
  PostgreSQL refuses. With dumpers as strict as the server's text input (integers, booleans and
  ids packed in Python), six alternating pairs on the same archive grown to 340k events gave
  3,452 events/s before and 3,464 after, the replay's CPU 2% less: nothing measurable left.
  `tests/test_bulk_write.py` and the restore's tests now check that such values are refused,
  as text COPY refuses them.
  Writing each page in a thread while the next is projected (the first of those steps) was then
  built and measured the same way (2026-12-01, a 160k-event archive, seven alternating pairs):
  each page's rows taken as tuples, the records it changed carried into the next page (so that
  the next page's reads need not wait for its write), and its COPYs sent on the rebuild's
  connection from a writer thread. It lost 9%: a median of 36.4 s against 33.2 s. The Python
  process's CPU rose from 23.6 to 26.3 s (medians of the last four pairs), the server's stayed
  at about 14 s: the writer's row formatting and the handlers take turns on the one interpreter
  lock, and psycopg holds the connection for a whole COPY, so the next page's reads wait for
  it. The turn-taking moved; it did not go. Not kept. That sets the bound plainly: a rebuild of
  160k events here costs about 24 s of Python's CPU and 14 s of the server's, 38 s on two
  cores, so no overlap can bring it under about 19 s (8,400 events/s). 20,000 events/s on two
  cores is at most 100 µs of CPU an event, both processes together, against about 240 µs now:
  the work itself must fall by more than half, on both sides (in Python the handlers and
  COPY's formatting, which is psycopg's C but a fifth of the replay's thread; on the server
  the history tables' index upkeep and the foreign-key checks at commit).
  Those checks were then timed at 1M events (2026-12-01: a replay of 1,060,000 events in one
  transaction, then `SET CONSTRAINTS ALL IMMEDIATE` timed before the commit): 30.5 s after a
  262 s replay, a tenth of the rebuild. Checked one constraint at a time, they spread over all
  28 foreign keys: the claims' history rows' user 6.9 s, the claims' fact 3.1 s, each of the
  claims' and published claims' other references 0.7 to 2.6 s, each history table's user under
  1.6 s but the claims'. No one key is worth giving up a database's guarantee for.
  Then (2026-12-07) a count of what each page looked for in the database, over a replay of the
  100k-event archive: 30,268 records, of which 76 were there. The others had been registered
  earlier in the same page, on this archive where review follows registration closely; and since
  a stream opens once, a record a page registers cannot be in the database before that page. A
  page now leaves them out (`_registered` in `records/batch_projection.py`; a test checks that a
  replay of the seeds in one page reads none of them). Over four alternating pairs on the 100k
  archive: 11,206, 10,625, 11,164 and 11,485 events/s before, 11,810, 11,682, 11,447 and 12,065
  after (medians 11,185 and 11,746, 5% more); on the same machine's 1M archive (1,120,000 events
  by then), two pairs: 8,927 and 9,289 before, 9,697 and 9,126 after (3%, within the noise).
  Reading ahead went from 2.0 to 1.5 s of a 9.5 s replay, but the queries left out gave back less
  than their own time: the reads, the writes and the log's reader thread share one connection,
  so what one statement no longer waits for, the next one does.
  Then (2026-12-07, later) the log is read on a connection of its own
  (`records/reading_session.py`: the replay's snapshot exported to a read-only transaction, so
  that both see the same log), and one server process reads the next pages while the other takes
  the replay's writes. Side by side with the code before, in alternation, the database vacuumed
  before each run: on a 100k-event archive, six pairs, 12.1, 12.7, 10.7, 9.5, 9.0 and 9.6 s
  before, 10.6, 10.8, 9.9, 8.8, 10.0 and 8.6 s after (five pairs of six faster, by 7 to 14%; the
  machine sped up through the run, so the pairs say more than the medians, 10.2 and 9.9 s); on
  the 1M-event archive, three pairs, 8,563, 9,008 and 9,583 events/s before, 9,053, 9,545 and
  9,272 after (medians 9,008 and 9,272, 3%, within the noise). The Python process's CPU did not
  fall (about 72 s of a 1M replay's 105 to 117 s on either side): the server's reading was
  moved off the replay's path, and what bounds the replay is Python's own work. Verify's replay
  reads the same way, but `verify_archive` on the 100k archive did not move measurably (four
  pairs: 11.8, 9.8, 11.9 and 11.8 s before, 10.7, 10.4, 11.5 and 12.6 s after), its chain check,
  copies and comparison being the same work as before.
  Then (2026-12-07, on a quiet machine, the database vacuumed before each run) a replay of the
  1M-event archive took 80 to 86 s, 50 to 56 s of it the Python process's CPU. In a run timed step
  by step (92 s) its thread's time split into COPY 39 s (21 s of it Python's: formatting rows,
  writing JSON), the handlers 20 s, deleting the page's stale records 5 s and reading records
  ahead 7 s (both nearly all the server's), and the commit 10 to 11 s (the deferred foreign-key
  checks, then the write to disk). Four more ideas were measured and not kept. Writing only each
  page's history rows and comments in a thread (no handler reads them back, so nothing need be
  carried across pages) while the next page is handled: on the 100k archive, three alternating
  pairs, 7.6, 7.3 and 7.7 s before, 7.9, 7.7 and 7.3 s after; the main thread waited 2.1 s for the
  writer after 1.9 s of handling, the writer's COPYs taking half as long again as alone. Writing
  each distinct time of a COPY once for all of its time columns (psycopg converts a time in about
  1.2 µs, and a history row holds four, mostly the same): the claims' history COPY went from 1.0
  to 0.85 s of Python's CPU at 100k, but on the 1M archive, three alternating pairs, 82.0, 83.7
  and 86.2 s before, 88.5, 86.6 and 82.0 s after. Pages of 5,000 events (and 10 MB) instead of
  2,000 (and 4 MB): 79.8 and 80.3 s against 77.2 and 77.0 s at 1M (3%), for 29 MB more at the
  peak. Dropping the history tables' foreign keys to the user for one run: the commit took 7.3 s
  instead of 10.6 to 11.3 s, 4% of the replay, not worth the database's guarantee. So the replay
  stays bound by the two processes taking turns on about 50 µs of Python and 30 µs of the server
  an event at 1M; 20,000 events/s needs both halved.
  Then (2026-12-07, later) a profile of a fact page showed each time read from PostgreSQL taking
  about 3 µs: Django reads a `timestamptz` through a loader of its own built on psycopg's Python
  one, which parses the server's text with a regular expression, where `datetime.fromisoformat`
  takes 0.1 µs. `records/pg_timestamps.py` puts a loader in its place that gives the same
  datetimes (a test compares the two over the first and last years a datetime holds, times with
  and without microseconds, and refusals) and leaves whatever `fromisoformat` does not read to
  Django's. A replay reads a time with every event and several with every record it reads
  back. On the 100k archive, six alternating pairs, the database vacuumed before each: 7.36,
  7.28, 7.59, 7.18, 6.81 and 6.89 s before, 6.83, 7.33, 6.77, 6.72, 6.34 and 6.70 s after (every
  pair faster but one, medians 7.2 and 6.75 s, 7% less); the Python process's CPU from 4.57 to
  5.14 s before to 4.22 to 4.88 s after. A fact page in process (`bench/api_profile.py`, three
  rounds of 30 requests each side): 19.5, 19.9 and 20.1 ms before, 18.5, 19.6 and 18.0 ms after.
  A bulk import reads few times and did not move (3.47 and 3.51 s before, 3.57 and 3.62 s
  after, in process at 100k).
- **Verify** is the chain check, then the same paged replay in a transaction that is rolled
  back, then a comparison that PostgreSQL does: each read-model and history table's temporary
  copy, taken before the replay, and the replay's rows in one `UNION ALL` grouped on every
  column, keeping the rows the two hold a different number of times. So its memory does not grow
  with the archive. On a 120k-event archive this comparison took 2.2 s where two `EXCEPT`s of
  each side grouped on its own took 5.7 s (run after a `VACUUM`, side by side; 4.1 s and 9.6 s
  on the same tables bloated by earlier rolled-back replays). Verify does a rebuild's work and
  more, so it cannot be faster than rebuild; the 100,000 events/s target compares with the chain
  check alone. The chain check (`records/chain_check.py`) reads the log raw, in pages, a thread
  reading the next page while one is checked, with the server writing each time in canonical
  form; orjson decodes the JSON and writes the canonical form wherever that is byte for byte
  what `json.dumps` writes (`records/json_codec.py`; property-based tests in
  `tests/test_canonical_json.py` check it over arbitrary values, known-answer tests pin hashes
  from before, and everything else still goes through `json`). It went from about 20,000 to
  about 100,000 events/s on a 120k-event archive. What is left is Python, about 9 µs an event:
  decoding the two JSON documents, looking for floats (which only `json` may read), three
  canonical serialisations and SHA-256 digests, and the loop itself. So a log of 200,000 events
  or more is checked in two halves at once (on PostgreSQL, outside a transaction): the second
  half by `records/chain_worker.py` in a process of its own, linking to the stored hash at the
  middle, which the first half checks. On a 1M-event archive on 2026-12-01, in three
  alternating pairs, halves took 14.8, 11.0 and 10.6 s and one walk 17.3, 12.7 and 15.5 s: a
  median of 91,000 against 64,000 events/s, 1.4 times, not 2, since the two servers' work
  shares the same two cores. The worker's memory (about 80 MB at its peak) is a process of its
  own, beside the caller's 82 MB, and not in the peak of the table's chain row. On the
  1M-event archive (measured apart on 2026-11-30, in one transaction rolled back)
  verify's time splits into the chain check 8 s (one walk, on the faster machine), copying the
  live tables 7 s, the replay 110 s and the comparison 18 to 22 s (no faster with `work_mem` at
  64 or 256 MB): the replay is 70% of it, so verify can only follow rebuild.
- **Bulk import** goes in five steps, each timed by the command. On the 1M-event archive
  (2026-12-01, measured apart, a catalogue of 20,000 lines: 1,062 sources, 5,692 subjects and
  13,246 claims) it took 14.1 s, reading the file included: parsing the lines 1.1 s, checking
  them with the commands' rules against references loaded in bulk 1.8 s, appending (hashing, one
  streamed COPY) 2.7 s, projecting the drafts 6.4 s (the same paged projector as rebuild, but
  here every event registers a record: building a Django model instance for each new record and
  its fact was a tenth of the import's thread under py-spy) and the commit 1.5 s (most of it the
  database's deferred checks of the new rows' references, 1.7 s when timed apart with `SET
  CONSTRAINTS ALL IMMEDIATE` in another run; then writing the transaction to disk). 10,000
  events/s would be 2 s in all, less than the projection or the append alone: the bound is the
  sum of the steps, no single one. Until that day the catalogue took every source, then every
  subject, then the claims, so at 1M events its 20,000 lines held no claim at all: the earlier
  runs' figure (1,805 events/s at commit 190e4f3) is of sources with their texts and subjects.
  The import holds the whole file and the texts of the sources it cites in memory (split a very
  large catalogue into several files). In a run on 2026-12-01 (commit a9f7c27) the
  append took 6.5 s, the slowest seen: two more imports right after, on the same archive, took
  16.4 and 14.9 s in all, appending in 4.3 and 3.3 s.
  On 2026-12-07 the append was measured on a 1M-event archive with and without the hash's
  second index (one Django adds on PostgreSQL beside a unique text column's, for `LIKE 'prefix%'`
  lookups, which no query makes: 126 MB of the log's 404 MB of indexes, a random key written
  on every append), dropped inside the import's transaction and rolled back after, in three
  alternating runs of a 20,000-line import: the append took 1.55, 1.22 and 1.29 s with it, 1.04,
  1.00 and 1.08 s without (medians 1.29 and 1.04 s; the whole import 4.98 and 4.71 s). Migration
  0008 drops it. Dropping the unique index too took the append to 0.85 s (0.90, 0.82, 0.85), but
  it stays: it is the database's own guarantee that no two events share a hash.
  Then (2026-12-07, the same archive and import, four alternating pairs, the database vacuumed
  before each) the paged projector made its new records without Django's constructor, whose
  walk over every field took 26 µs a claim (`records/batch_projection.py`, `_record_maker`: the
  same attributes, which a test holds equal for every read model): projecting went from a
  median of 2.29 to 1.82 s, the whole import from 4.62 to 4.26 s. Both changes together, run as
  the benchmark runs them (`import_claims` in a fresh process, committing, a catalogue of new ids
  each run, the database vacuumed before each) side by side with the code before (commit d78c846,
  the hash's second index put back for its runs) in three alternating pairs on that archive:
  3,679, 3,730 and 3,523 events/s before, 4,193, 3,935 and 4,134 after (medians 3,679 and 4,134,
  12% more; measured on the machine of the tables above, which builds the benchmark's archive
  twice as fast as the one of the run before them, so compare ratios across runs).
- **The fact list, every page computed** (the API target furthest off) was then measured on
  2026-12-06 under gunicorn (2 workers, 4 clients, page cache off) on a 100k-event archive, side by
  side with the code before them (commit e62e251), in three alternating runs of 10 s each: 33.7,
  43.3 and 33.1 requests/s before, 63.2, 61.3 and 47.8 after (medians 34 and 61, p95 188 and 109
  ms). On the 1M-event archive of 2026-12-07, in the same way (commit d779bd0 after): 45.6, 43.5 and
  45.1 before, 53.5, 61.7 and 48.1 after (medians 45 and 54, p95 142 and 113 ms), a smaller gain:
  a page in process took 42 to 52 ms there, against about 36 ms at 100k. Measured again later
  that day on a quiet machine, in process with the page cache off (`bench/api_profile.py`, three
  rounds of 30 requests on each archive), a page took 22 to 25 ms on the 100k-event archive and
  23 to 26 ms on the 1M: a page does not cost more on a larger archive (each of its queries takes
  1 to 2 ms on either), and the smaller gain was the machine's state at the time (serializing,
  which reads nothing from the database, was slower then too: 14 ms, against 9 to 11 ms on a 10k
  archive that day). Three changes, each timed in process on its own: the page's related records are
  read as only the columns it shows (a citation shows its source's title, but the 141 sources of the
  first page were read whole, full texts included: 9.4 ms, now 3.3 ms); its claims are read as rows
  of values rather than model instances (9.6 ms, now 6.9 ms); and the serializers write each record
  without DRF's generic lookup per field (`FlatSerializer`: 9.1 ms, now 6.1 ms, the same output,
  which a test holds equal). The fact detail, of three claims, did not move (169 and 177
  requests/s). What was left of a page in process, about 36 ms on the machine of that day (22 to 26
  ms on the quiet one above): reading the claims (7 ms, most of it psycopg converting 150 rows of
  32 columns), serializing (DRF's fields converting each value, the
  times most), JSON rendering (4 ms), the related records' other queries and Django's request
  handling. 300 requests/s on two cores shared with PostgreSQL and the load generator leaves under 7
  ms of CPU a request, all processes together: less than the baseline, with no framework at all,
  takes for the same page (104 pages/s from 2 processes at 1M events, about 19 ms each). orjson
  writes a page in a tenth of json's time, but it prints some floats differently (1e-05 as 0.00001,
  NaN as null), so a renderer would first have to make sure that the page holds none: tried on
  2026-12-07 on a page of 108 KB, that check alone took 0.87 ms, DRF's renderer 1.36 ms and orjson
  behind the check 1.10 ms. Not kept.
- **Commands** make about thirteen SQL round trips per event, each command in a transaction of
  its own that commits to disk: the append lock, the retry check by event id, the stream's
  version, the log's tail, the insert, the record read by the command and again by the
  projector, its update and its history row. Writers overlap only the work before the lock,
  so four writers do little better than one (compare the two *commands* rows).
- **Machines differ**, though they are described alike (2 cores, AMD EPYC): compare runs by
  their ratios to the baselines. At 1M events, the run of the tables above (2026-12-07 06:10,
  commit 7f45998, on a machine that built the archive through the commands at 109 events/s) gave
  rebuild 11,199, verify 8,628, the chain check alone 135,975 (in two halves) and export 21,313
  events/s, with SHA-256 over the log at 449,801 events/s; one earlier that day (commit d779bd0,
  53 events/s through the commands) gave rebuild 5,795, verify 4,488, the chain check alone
  88,940 (in two halves) and export 13,916 events/s, with SHA-256 over the log at 284,714
  events/s; one on 2026-12-01 (commit a9f7c27) 4,010, 3,670, 55,106 (in two halves) and 10,390,
  with SHA-256 at 215,195; earlier that day (commit 190e4f3) another 5,301, 4,876, 71,796 (one
  walk) and 15,093, with SHA-256 at 339,540; on 2026-11-30 (commit 4af4f1a) another 8,634,
  6,273, 132,130 (one walk) and 24,384, with SHA-256 at 469,025. The ratios moved little
  (rebuild 0.23, 0.19, 0.19, 0.18 and 0.21, verify 0.019, 0.016, 0.017, 0.014 and 0.013, the
  chain check 0.30, 0.31, 0.26, 0.25 and 0.28). The chain check's halves gain less on a slower
  machine: right after the run of 2026-12-01, on its archive, two alternating pairs gave halves
  54,914 and 62,049 events/s against one walk's 48,036 and 48,243. Bulk import's figures are not
  comparable across these runs (see *Bulk import* above).
"""

GAPS = """\
## Not measured yet

- **Scales.** The targets are set at 1M events; this run used {scale_label}. Above 10k events
  the archive is tiled (see *The archive*): built through the commands at their tens of events
  per second, 1M events would take the best part of a day.
- **Repeat runs at 1M**: above 100k events each figure is one run by default (`RUNS=`).
- **The API at other page sizes and concurrencies**: the run measures the default page size
  and one concurrency (`bench/api_load.py` names both), and the API on the tiled archive sees
  many copies of the same pages' shapes.
- The writers' figures come from a few dozen claims per run (`--claims-per-writer`); their
  range shows how much they move from run to run.
- **Memory with long source texts.** The benchmark's sources hold about 4 KB of text each,
  where a source may hold up to 2,000,000 characters; no run measures such a log. Pages of the
  log were bounded by a number of events alone, so a log dense with long texts took memory in
  proportion: on 2026-12-01, after a 1M run whose bulk import appended 20,000 events at the
  log's end (8,000 sources with their texts among them: 19 MB of JSON in one page of 5,000),
  `rebuild_projections` peaked at 259 MB and `export_events` at 208 MB, where the run had
  measured 133 MB before the import. Since, a page also ends once its events hold 4 MB of
  stored data (`records/log_pages.py`; compressed, on PostgreSQL, so a page holds more of a
  text that compresses well): on the same archive 192 MB and 165 MB. The chain check
  reads each page in one statement with the bound (a second query for the page's end cost an
  eighth of it): 54,233, 62,066 and 57,630 events/s against 59,804, 59,512 and 80,008 before,
  in alternation, within these machines' noise; a rebuild 5,339 against 4,869 (one of each).
  Those figures are of a first form that summed the sizes over whole rows; the statement now
  sums over positions and sizes alone, then reads the page's range (on SQLite a page of large
  events, 40 of 1 MB, went from 194 to 5 ms), not measured again at 1M.
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
    api,
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
                f"started; {sessions} other active PostgreSQL sessions): other work shared "
                f"{shared}. Read the absolute figures as "
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
(`bench/generate.py` builds the archive, `bench/tile.py` grows it past 10k events,
`bench/run.py` measures).
{note}
## Machine

{machine_table(machine, load_at_end)}

## The archive

{textwrap.fill(archive, width=100)}

## Results

{results_table(rows, runs)}

## Targets

{targets_table(achieved, scale_label)}

## The public API under load

{api_section(api, scale_label)}

{EXPLANATIONS.format(writers=writers, django_mb=f"{django_mb:.0f}", claims=claims_per_writer)}\
{api_explanations(api)}
{MEDIANS}
{WHERE_THE_TIME_GOES}
{GAPS.format(scale_label=scale_label)}
## Running it

```sh
make bench                # SCALE=10k: about ten thousand events
make bench SCALE=100k     # or 1M; RUNS=5 for more runs per figure
```

It drops and recreates the database `strata_bench` on the PostgreSQL server that
`DATABASE_URL` names (by default `postgres://postgres@127.0.0.1:5432/postgres`), builds the
archive there (its first 10k events through the commands, deterministic for a seed:
`python -m bench.run --seed 1`; beyond that, copies of them), measures, prints the results
table and rewrites this file. It is not part of `make test`; CI runs it once at 10k, one run
per figure, so that it cannot rot.

The API part alone, against a benchmark database already built (a minute or two):

```sh
.venv/bin/python -m bench.api_load --database strata_bench [--seconds 15]
```
"""
