"""What a bulk import's lines refer to, loaded in a few queries rather than one per line.

The import checks its lines with the commands' own rules (``records.values`` and the commands'
field checks). Those rules look up sources and subjects through a ``References`` object; here
it answers from what the file itself registers and from records of the archive loaded in bulk.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from records.models import Property, Source, StoredEvent, Subject
from records.values import References

# Ids per query: well under every backend's limit on query parameters.
CHUNK = 2000


def _chunks(ids: Iterable, size: int = CHUNK) -> Iterator[list]:
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class ImportReferences(References):
    """Sources and subjects known to an import: those its file registers (with the source texts
    as the file gives them) and those already in the archive."""

    def __init__(self, *, subjects: set[uuid.UUID], source_texts: dict[uuid.UUID, str]):
        self.subjects = subjects
        self.source_texts = source_texts

    def subject_exists(self, subject_id: uuid.UUID) -> bool:
        return subject_id in self.subjects

    def source_text(self, source_id: uuid.UUID) -> str | None:
        return self.source_texts.get(source_id)


def properties_by_key(keys: Iterable[str]) -> dict[str, Property]:
    found = {}
    for chunk in _chunks(set(keys)):
        found.update((prop.key, prop) for prop in Property.objects.filter(key__in=chunk))
    return found


def archived_subjects(ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these subjects are registered in the archive (any review status)."""
    found = set()
    for chunk in _chunks(set(ids)):
        found.update(Subject.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def archived_source_texts(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The working full text of each of these sources that is registered in the archive."""
    found = {}
    for chunk in _chunks(set(ids)):
        found.update(Source.objects.filter(pk__in=chunk).values_list("pk", "full_text"))
    return found


@dataclass(frozen=True)
class FirstEvent:
    """The event that opened a stream: what kind of record, its id, and the request digest."""

    stream_type: str
    event_id: uuid.UUID
    request: str | None  # None for events stored before requests were recorded


def first_events(stream_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, FirstEvent]:
    """For each of these ids that already names a stream in the log, its first event."""
    found = {}
    for chunk in _chunks(set(stream_ids)):
        rows = StoredEvent.objects.filter(stream_id__in=chunk, version=1).values_list(
            "stream_id", "stream_type", "event_id", "metadata"
        )
        for stream_id, stream_type, event_id, metadata in rows:
            found[stream_id] = FirstEvent(stream_type, event_id, metadata.get("request"))
    return found
