"""A catalogue to import: the bench archive's published records, as an import file would give
them (docs/import.md), with ids of the run's own so that every run imports new records.

Sources keep their full text and subjects their names in every script; claims keep their
value, citation (quote and offsets) and attribution, pointing at the file's own sources and
subjects. The published records are written out as many times as it takes to reach the
number of lines asked for (each time with other ids), and the file is cut there.
"""

from __future__ import annotations

import itertools
import json
import uuid
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


def _id(copy: str, record_id) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{copy}:{record_id}"))


def _catalogue(run: str):
    for source in PublishedSource.objects.order_by("id").iterator():
        yield {
            "record": "source",
            "id": _id(run, source.id),
            **{field: getattr(source, field) for field in PublishedSource.CONTENT_FIELDS},
        } | ({"accessed": source.accessed.isoformat()} if source.accessed else {})
    for subject in PublishedSubject.objects.order_by("id").iterator():
        yield {
            "record": "subject",
            "id": _id(run, subject.id),
            "kind": subject.kind,
            "names": subject.names,
        }
    claims = PublishedClaim.objects.select_related("property").order_by("id")
    for claim in claims.iterator():
        value = {
            key: claim.value[key] for key in VALUE_FIELDS[claim.value_type] if key in claim.value
        }
        if "subject_id" in value:
            value["subject_id"] = _id(run, value["subject_id"])
        fields = current_fields(claim)
        yield {
            "record": "claim",
            "id": _id(run, claim.id),
            "subject_id": _id(run, claim.subject_id),
            "property": claim.property.key,
            **fields,
            "value": value,
            "citation": {**fields["citation"], "source_id": _id(run, claim.source_id)},
        }


def write(path: Path, run: int, lines: int) -> int:
    """Write ``lines`` lines (fewer only if the archive publishes nothing); returns how many."""
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for copy in itertools.count():
            before = written
            for line in _catalogue(f"{run}-{copy}"):
                if written == lines:
                    return written
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                written += 1
            if written == before:
                return written
