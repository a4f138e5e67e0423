"""Projections are disposable: clear them, replay the log, and compare with the live state."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

from records.event_store import iter_log
from records.models import StoredEvent
from records.projections import PROJECTION_MODELS, Projector


def _tables():
    """Each read model and its history model, in dependency order."""
    for model in PROJECTION_MODELS:
        yield model
        if hasattr(model, "history"):
            yield model.history.model


def clear_projections() -> None:
    # Raw deletes: a model delete would make django-simple-history write "deleted" history rows,
    # and these rows are not being deleted from the archive, only rebuilt.
    for table in reversed(list(_tables())):
        table.objects.all()._raw_delete(table.objects.db)


def project(events: Iterable[StoredEvent], on_event: Callable[[], None] | None = None) -> int:
    """Project stored events, in position order, onto the read models as they stand.
    Returns the number of events projected."""
    projected = 0
    projector = Projector()
    for stored in events:
        projector.apply(stored)
        projected += 1
        if on_event is not None:
            on_event()
    return projected


def rebuild(on_event: Callable[[], None] | None = None) -> int:
    """Replay the whole log into empty read models, history included. Returns events replayed."""
    with transaction.atomic():
        clear_projections()
        return project(iter_log(), on_event)


def _row_key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every read model and history table, in a comparable, order-free form.
    History ids are left out: they are surrogate keys that a replay numbers afresh."""
    state = {}
    for table in _tables():
        rows = [
            {key: value for key, value in row.items() if key != "history_id"}
            for row in table.objects.values()
        ]
        state[table._meta.label] = sorted(rows, key=_row_key)
    return state


@dataclass(frozen=True)
class ReplayReport:
    events: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


def describe_differences(live: dict, replayed: dict, limit: int = 10) -> list[str]:
    differences = []
    for table in live:
        live_rows = {_row_key(row): row for row in live[table]}
        replayed_rows = {_row_key(row): row for row in replayed[table]}
        for key in live_rows.keys() - replayed_rows.keys():
            row = live_rows[key]
            differences.append(f"{table}: live row {_identify(row)} is not what a replay gives")
        for key in replayed_rows.keys() - live_rows.keys():
            row = replayed_rows[key]
            differences.append(f"{table}: a replay gives row {_identify(row)} that is not live")
    return differences[:limit]


def _identify(row: dict) -> str:
    parts = [f"id={row.get('id', row.get('position'))}"]
    if "last_position" in row:
        parts.append(f"last event at position {row['last_position']}")
    if "history_date" in row:
        parts.append(f"history {row.get('history_type')} at {row['history_date']}")
    return ", ".join(parts)


def check_replay(on_event: Callable[[], None] | None = None) -> ReplayReport:
    """Rebuild inside a transaction that is rolled back, and compare with the live state."""
    with transaction.atomic():
        live = snapshot()
        events = rebuild(on_event)
        replayed = snapshot()
        transaction.set_rollback(True)
    return ReplayReport(events=events, differences=describe_differences(live, replayed))


def event_count() -> int:
    return StoredEvent.objects.count()
