"""Load the seed document and what it says (seeds/) through the commands and the review
workflow: an archivist registers and submits every record, and a reviewer approves it.

Record ids and event ids are derived from the stable keys in the seed file, so a second load is
a retry of the same commands: the event store acknowledges it and appends nothing.
"""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from records import commands
from records.models import StoredEvent

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"
SEED_FILE = SEEDS_DIR / "zhejiang_jiangxi.toml"
SEED_NAMESPACE = uuid.UUID("3b8f2c1e-5f7a-4d2b-9a6e-0c1d2e3f4a5b")


def seed_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(SEED_NAMESPACE, f"{kind}:{key}")


def _event_id(kind: str, key: str, step: str = "registered") -> uuid.UUID:
    return uuid.uuid5(SEED_NAMESPACE, f"event:{kind}:{key}:{step}")


def _once(command, *, event_id: uuid.UUID, **arguments) -> None:
    """Run one seed step unless its event is in the log already. Steps are skipped, not retried:
    a retry must be the very same request, and a later load may be by other accounts."""
    if not StoredEvent.objects.filter(event_id=event_id).exists():
        command(event_id=event_id, **arguments)


def _publish(kind: str, key: str, *, archivist, reviewer) -> None:
    """Submit revision 1 as the archivist and approve it as the reviewer."""
    record_id = seed_id(kind, key)
    _once(
        commands.submit_for_review,
        record_type=kind,
        record_id=record_id,
        actor=archivist,
        event_id=_event_id(kind, key, "submitted"),
    )
    _once(
        commands.approve_revision,
        record_type=kind,
        record_id=record_id,
        revision=1,
        comment="Checked against the seed document.",
        actor=reviewer,
        event_id=_event_id(kind, key, "approved"),
    )


@dataclass(frozen=True)
class SeedReport:
    sources: int
    subjects: int
    properties: int
    claims: int
    events_appended: int


def load_seeds(*, archivist, reviewer, path: Path = SEED_FILE) -> SeedReport:
    """Register the seed source, subjects, properties and claims as ``archivist``, and publish
    them through review by ``reviewer``."""
    actor = archivist
    publish = partial(_publish, archivist=archivist, reviewer=reviewer)
    seed = tomllib.loads(path.read_text(encoding="utf-8"))
    before = StoredEvent.objects.count()
    with transaction.atomic():
        source = seed["source"]
        source_id = seed_id("source", source["key"])
        _once(
            commands.register_source,
            title=source["title"],
            author=source.get("author", ""),
            publisher=source.get("publisher", ""),
            url=source.get("url", ""),
            accessed=source.get("accessed"),
            licence=source["licence"],
            attribution=source["attribution"],
            full_text=(path.parent / source["file"]).read_text(encoding="utf-8"),
            actor=actor,
            source_id=source_id,
            event_id=_event_id("source", source["key"]),
        )
        publish("source", source["key"])
        for subject in seed["subjects"]:
            _once(
                commands.register_subject,
                kind=subject["kind"],
                names=subject["names"],
                actor=actor,
                subject_id=seed_id("subject", subject["key"]),
                event_id=_event_id("subject", subject["key"]),
            )
            publish("subject", subject["key"])
        for prop in seed["properties"]:
            _once(
                commands.define_property,
                key=prop["key"],
                label=prop["label"],
                value_type=prop["value_type"],
                unit=prop.get("unit", ""),
                count=prop.get("count", False),
                multivalued=prop.get("multivalued", False),
                actor=actor,
                property_id=seed_id("property", prop["key"]),
                event_id=_event_id("property", prop["key"]),
            )
        for claim in seed["claims"]:
            value = dict(claim["value"])
            if "subject" in value:
                value["subject_id"] = str(seed_id("subject", value.pop("subject")))
            _once(
                commands.register_claim,
                subject_id=seed_id("subject", claim["subject"]),
                property_id=seed_id("property", claim["property"]),
                value=value,
                citation={
                    "source_id": str(source_id),
                    "locator": claim.get("locator", ""),
                    "quote": claim["quote"],
                },
                attributed_to=claim.get("attributed_to", ""),
                note=claim.get("note", ""),
                actor=actor,
                claim_id=seed_id("claim", claim["key"]),
                event_id=_event_id("claim", claim["key"]),
            )
            publish("claim", claim["key"])
    return SeedReport(
        sources=1,
        subjects=len(seed["subjects"]),
        properties=len(seed["properties"]),
        claims=len(seed["claims"]),
        events_appended=StoredEvent.objects.count() - before,
    )
