"""Run one maintenance command in a process of its own and report its time and memory.

``python -m bench.child rebuild_projections`` (or ``verify_archive``) sets Django up, runs the
command as ``manage.py`` would, and prints one JSON line: the command's seconds, the events in
the log, and this process's peak resident memory, before and after the command. A process of
its own, so that the peak is the command's alone and nothing the benchmark holds counts.
``chain`` runs only verify_archive's first step, the hash chain check, to show its share;
``export_events`` writes the log to a scratch file;
``import_claims FILE USERNAME`` imports a catalogue, and reports the events it appended.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys
import tempfile
import time

COMMANDS = ("rebuild_projections", "verify_archive", "chain", "import_claims", "export_events")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux gives KiB


def import_steps(said: str) -> dict[str, float]:
    """The seconds per step that import_claims reports ("Time per step: parse 0.41 s, …"); none
    when it had nothing new to import."""
    for line in said.splitlines():
        if line.startswith("Time per step: "):
            steps = line.removeprefix("Time per step: ").rstrip(".").split(", ")
            return {
                name: float(seconds) for name, seconds, _unit in (step.split(" ") for step in steps)
            }
        if line.startswith("Nothing new to import"):
            return {}
    raise RuntimeError(f"import_claims did not say its time per step:\n{said}")


def main(command: str, *arguments: str) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")  # as manage.py does
    django.setup()
    from django.core.management import call_command

    from records.replay import event_count

    events_before = event_count()
    steps = {}
    before = _peak_rss_bytes()
    started = time.perf_counter()
    if command == "chain":
        from records.chain_check import check_log_chain

        if not check_log_chain().ok:
            sys.exit("the hash chain is broken")
    elif command == "export_events":
        # To a scratch file: the figure includes writing it, as a backup would.
        with tempfile.TemporaryDirectory(prefix="strata-bench-export-") as folder:
            output = os.path.join(folder, "log.jsonl")
            call_command(command, output=output, no_progress=True, stdout=io.StringIO())
    elif command == "import_claims":
        path, actor = arguments
        said = io.StringIO()
        call_command(command, path, actor=actor, no_progress=True, stdout=said)
        steps = import_steps(said.getvalue())
    else:
        call_command(command, no_progress=True, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    # An import's events are the ones it appended; the others go over the whole log.
    events = event_count() - events_before if command == "import_claims" else events_before
    print(
        json.dumps(
            {
                "command": command,
                "seconds": seconds,
                "events": events,
                "rss_before_bytes": before,
                "peak_rss_bytes": _peak_rss_bytes(),
                "steps": steps,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python -m bench.child {{{','.join(COMMANDS)}}} [ARGUMENTS]")
    main(*sys.argv[1:])
