"""Progress display for long runs over the event log (rich, on standard error)."""

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def event_progress(description: str, total: int, *, enabled: bool = True):
    """Yield a callable to call once per event; shows a bar with a count and time left."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)
