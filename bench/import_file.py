"""A catalogue to import: the bench archive's published records, as an import file would give
them (docs/import.md), with ids of the run's own so that every run imports new records.

The catalogue goes source by source, as an archivist migrating a catalogue of claims would
give it: each published source, then every published claim citing it, each claim preceded by
the subjects it names that the file has not given yet. So a file cut short holds claims in the
archive's own proportion to sources, whatever the archive's size, and the subjects as its claims
first name them (taking every source first, then every subject, a 1M-event archive's catalogue
of 20,000 lines held no claim at all). Sources keep their full text and subjects their names
in every script; claims keep their value, citation (quote and offsets) and attribution,
pointing at the file's own sources and subjects. The published records are written out as
many times as it takes to reach the number of lines asked for (each time with other ids), and
the file is cut there.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter
from pathlib import Path

from records.commands.claims import current_fields
from records.models import PublishedClaim, PublishedSource, PublishedSubject

NAMESPACE = uuid.UUID("0f7d3c1e-2b8a-4c55-9e61-5a1f0b7c9d24")

# The value's input fields, per type: the rest of a stored value is what the commands derive.
VALUE_FIELDS = {
    "quantity": ("original", "best", "lower", "upper", "approximate", "unit"),
    "date": ("original", "edtf", "part"),
    "text": ("original", "text"),
    "subject": ("original", "subject_id"),
}


def _same(record_id) -> uuid.UUID:
    """One form for an id given as a UUID or as text (in any case, as a restored log may)."""
    return record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(record_id)


def _id(copy: str, record_id) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{copy}:{_same(record_id)}"))


def _source_line(run: str, source: PublishedSource) -> dict:
    return {
        "record": "source",
        "id": _id(run, source.id),
        **{field: getattr(source, field) for field in PublishedSource.CONTENT_FIELDS},
    } | ({"accessed": source.accessed.isoformat()} if source.accessed else {})


def _subject_line(run: str, subject: PublishedSubject) -> dict:
    return {
        "record": "subject",
        "id": _id(run, subject.id),
        "kind": subject.kind,
        "names": subject.names,
    }


def _claim_line(run: str, claim: PublishedClaim) -> dict:
    value = {key: claim.value[key] for key in VALUE_FIELDS[claim.value_type] if key in claim.value}
    if "subject_id" in value:
        value["subject_id"] = _id(run, value["subject_id"])
    fields = current_fields(claim)
    return {
        "record": "claim",
        "id": _id(run, claim.id),
        "subject_id": _id(run, claim.subject_id),
        "property": claim.property.key,
        **fields,
        "value": value,
        "citation": {**fields["citation"], "source_id": _id(run, claim.source_id)},
    }


def _catalogue(run: str):
    # Three queries in all, whatever the archive's size: the sources, and their claims in the
    # same order (so that each source's claims follow it), read side by side; and the published
    # subjects, which a claim is approved only once it names (records/commands/review.py).
    subjects = {subject.id: subject for subject in PublishedSubject.objects.all()}
    claims = (
        PublishedClaim.objects.select_related("property").order_by("source_id", "id").iterator()
    )
    claim = next(claims, None)
    given_subjects = set()
    for source in PublishedSource.objects.order_by("id").iterator():
        yield _source_line(run, source)
        while claim is not None and claim.source_id == source.id:
            for subject_id in (claim.subject_id, claim.value.get("subject_id")):
                if subject_id is not None and _same(subject_id) not in given_subjects:
                    given_subjects.add(_same(subject_id))
                    yield _subject_line(run, subjects[_same(subject_id)])
            yield _claim_line(run, claim)
            claim = next(claims, None)
    if claim is not None:  # ids ordered alike in both queries, so every claim found its source
        raise AssertionError(f"claim {claim.id} came after the last of the sources")


def write(path: Path, run: int, lines: int) -> Counter:
    """Write ``lines`` lines (fewer only if the archive publishes nothing); returns how many of
    each kind of record ("source", "subject", "claim")."""
    written: Counter = Counter()
    with path.open("w", encoding="utf-8") as out:
        for copy in itertools.count():
            before = written.total()
            for line in _catalogue(f"{run}-{copy}"):
                if written.total() == lines:
                    return written
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                written[line["record"]] += 1
            if written.total() == before:
                return written
