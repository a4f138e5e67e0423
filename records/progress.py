"""Progress display for long runs over the event log (rich, on standard error)."""

from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

TICKS_PER_ADVANCE = 100


class RateColumn(ProgressColumn):
    """Items per second, e.g. "12,345/s"."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


@contextmanager
def event_progress(description: str, total: int, *, enabled: bool = True):
    """Yield a callable to call once per event; shows a bar with a count, the rate and the
    time left."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
    with progress:
        task = progress.add_task(description, total=total)
        # The bar moves every TICKS_PER_ADVANCE items: rich's advance takes a lock and keeps
        # samples for the rate, a few percent of a replay when called for every event. The
        # display refreshes only a few times a second, so nothing is seen to lag.
        pending = 0

        def tick() -> None:
            nonlocal pending
            pending += 1
            if pending == TICKS_PER_ADVANCE:
                progress.advance(task, pending)
                pending = 0

        try:
            yield tick
        finally:
            progress.advance(task, pending)
