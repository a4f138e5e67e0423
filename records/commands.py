"""Commands: the only write path. Each checks its input, appends events, and projects them in
the same transaction. Arguments are keyword-only and the acting user is always explicit.

Every command accepts ``event_id``: a retried command with the same id is acknowledged and
returns the current record without storing anything twice. Revisions state the version they
were made against (``expected_version``); if the record moved on, ``ConcurrencyError``.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.db import transaction

from records import events as ev
from records.event_store import NO_STREAM, append
from records.models import Claim, Property, Source, Subject
from records.models.projections import SubjectKind, ValueType
from records.projections import Projector
from records.validation import ACTOR_REQUIRED, NOTHING_CHANGED, REQUIRED, Errors
from records.values import locate_quote, normalise_citation, normalise_value

NOT_A_DATE = "Enter a date as YYYY-MM-DD."
URL_SCHEME = "Enter a URL starting with http:// or https://."
NO_NAMES = "Give at least one name."
DUPLICATE_KEY = "A property with key {key!r} already exists."
UNIT_FOR_QUANTITY_ONLY = "Only quantity properties have a unit."
COUNT_FOR_QUANTITY_ONLY = "Only quantity properties can be counts."
UNKNOWN_PROPERTY = "No property with id {value}."
UNKNOWN_RECORD = "No {kind} with id {value}."
CITATIONS_BROKEN = (
    "{count} claim(s) quote passages that the new text no longer holds at their offsets: {ids}."
)


def _check_actor(errors: Errors, actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        errors.add("actor", ACTOR_REQUIRED)


def _record(
    *,
    event: ev.DomainEvent,
    expected_version,
    actor,
    reason: str = "",
    event_id: uuid.UUID | None = None,
    model,
):
    """Append one event and project it; on an acknowledged retry, project nothing."""
    result = append(
        stream_id=event.stream_id,
        expected_version=expected_version,
        events=[event],
        actor=actor,
        reason=reason,
        event_ids=[event_id] if event_id else None,
    )
    if not result.duplicate:
        projector = Projector()
        for stored in result.events:
            projector.apply(stored)
    return model.objects.get(pk=event.stream_id)


def _existing(errors: Errors, model, record_id, kind: str):
    parsed = errors.uuid(f"{kind}_id", record_id)
    if parsed is None:
        return None
    record = model.objects.filter(pk=parsed).first()
    if record is None:
        errors.add(f"{kind}_id", UNKNOWN_RECORD.format(kind=kind, value=parsed))
    return record


def _check_changed(errors: Errors, previous: dict, new: dict) -> None:
    if previous == new:
        errors.add("__all__", NOTHING_CHANGED)


# --- sources -------------------------------------------------------------------------------------


def _source_fields(errors: Errors, fields: dict) -> dict:
    accessed = fields.get("accessed")
    if isinstance(accessed, date):
        accessed = accessed.isoformat()
    elif accessed:
        try:
            accessed = date.fromisoformat(str(accessed)).isoformat()
        except ValueError:
            errors.add("accessed", NOT_A_DATE)
    url = errors.text("url", fields.get("url"))
    if url and not url.startswith(("http://", "https://")):
        errors.add("url", URL_SCHEME)
    full_text = fields.get("full_text") or ""
    errors.text("full_text", full_text)  # kept exactly as given: offsets count its characters
    return {
        "title": errors.text("title", fields.get("title"), required=True),
        "author": errors.text("author", fields.get("author")),
        "publisher": errors.text("publisher", fields.get("publisher")),
        "published": errors.text("published", fields.get("published")),
        "url": url,
        "archive_reference": errors.text("archive_reference", fields.get("archive_reference")),
        "accessed": accessed or None,
        "licence": errors.text("licence", fields.get("licence")),
        "attribution": errors.text("attribution", fields.get("attribution")),
        "full_text": full_text if isinstance(full_text, str) else "",
    }


def register_source(
    *,
    title: str,
    author: str = "",
    publisher: str = "",
    published: str = "",
    url: str = "",
    archive_reference: str = "",
    accessed: date | str | None = None,
    licence: str = "",
    attribution: str = "",
    full_text: str = "",
    actor,
    source_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Source:
    """Register a document, testimony or data set that claims are taken from."""
    errors = Errors()
    _check_actor(errors, actor)
    fields = _source_fields(errors, locals())
    reason = errors.text("reason", reason)
    errors.raise_if_any()
    event = ev.SourceRegistered(source_id=str(source_id or uuid.uuid4()), **fields)
    with transaction.atomic():
        return _record(
            event=event,
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Source,
        )


def revise_source(
    *,
    source_id: uuid.UUID,
    expected_version: int,
    title: str,
    author: str = "",
    publisher: str = "",
    published: str = "",
    url: str = "",
    archive_reference: str = "",
    accessed: date | str | None = None,
    licence: str = "",
    attribution: str = "",
    full_text: str = "",
    reason: str,
    actor,
    event_id: uuid.UUID | None = None,
) -> Source:
    """Record a new revision of a source. Refused if it would break a claim's quote offsets."""
    with transaction.atomic():
        errors = Errors()
        _check_actor(errors, actor)
        source = _existing(errors, Source, source_id, "source")
        fields = _source_fields(errors, locals())
        reason = errors.text("reason", reason, required=True)
        if source is not None and "full_text" not in errors:
            _check_citations_survive(errors, source, fields["full_text"])
            previous = ev.SourceRegistered(source_id=str(source.pk), **_source_state(source))
            _check_changed(errors, previous.to_data(), {"source_id": str(source.pk), **fields})
        errors.raise_if_any()
        return _record(
            event=ev.SourceRevised(source_id=str(source.pk), **fields),
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Source,
        )


def _source_state(source: Source) -> dict:
    fields = {
        name: getattr(source, name)
        for name in (
            "title",
            "author",
            "publisher",
            "published",
            "url",
            "archive_reference",
            "licence",
            "attribution",
            "full_text",
        )
    }
    fields["accessed"] = source.accessed.isoformat() if source.accessed else None
    return fields


def _check_citations_survive(errors: Errors, source: Source, new_text: str) -> None:
    if new_text == source.full_text:
        return
    broken = []
    for claim in Claim.objects.filter(source=source).only("id", "quote", "quote_start"):
        probe = Errors()
        locate_quote(probe, new_text, claim.quote, claim.quote_start, None)
        if probe.messages and new_text:
            broken.append(str(claim.pk))
    if broken:
        errors.add("full_text", CITATIONS_BROKEN.format(count=len(broken), ids=", ".join(broken)))


# --- subjects ------------------------------------------------------------------------------------


def _subject_fields(errors: Errors, kind, names) -> dict:
    kind = errors.choice("kind", kind, SubjectKind.values)
    clean_names = []
    if not isinstance(names, list | tuple) or not names:
        errors.add("names", NO_NAMES)
    else:
        for index, entry in enumerate(names):
            entry = entry if isinstance(entry, dict) else {"name": entry}
            clean_names.append(
                {
                    "name": errors.text(f"names.{index}.name", entry.get("name"), required=True),
                    "language": errors.text(
                        f"names.{index}.language", entry.get("language") or "und"
                    ),
                    "primary": bool(entry.get("primary", False)),
                }
            )
        if clean_names and not any(name["primary"] for name in clean_names):
            clean_names[0]["primary"] = True  # the first name given is the label by default
        if sum(name["primary"] for name in clean_names) > 1:
            errors.add("names", "Only one name can be the primary name.")
    return {"kind": kind, "names": clean_names}


def register_subject(
    *,
    kind: str,
    names: list[dict],
    actor,
    subject_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Subject:
    """Register what claims are about, with its names in any languages and scripts."""
    errors = Errors()
    _check_actor(errors, actor)
    fields = _subject_fields(errors, kind, names)
    reason = errors.text("reason", reason)
    errors.raise_if_any()
    with transaction.atomic():
        return _record(
            event=ev.SubjectRegistered(subject_id=str(subject_id or uuid.uuid4()), **fields),
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Subject,
        )


def revise_subject(
    *,
    subject_id: uuid.UUID,
    expected_version: int,
    kind: str,
    names: list[dict],
    reason: str,
    actor,
    event_id: uuid.UUID | None = None,
) -> Subject:
    with transaction.atomic():
        errors = Errors()
        _check_actor(errors, actor)
        subject = _existing(errors, Subject, subject_id, "subject")
        fields = _subject_fields(errors, kind, names)
        reason = errors.text("reason", reason, required=True)
        if subject is not None:
            _check_changed(errors, {"kind": subject.kind, "names": subject.names}, fields)
        errors.raise_if_any()
        return _record(
            event=ev.SubjectRevised(subject_id=str(subject.pk), **fields),
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Subject,
        )


# --- properties ----------------------------------------------------------------------------------


def define_property(
    *,
    key: str,
    label: str,
    value_type: str,
    unit: str = "",
    count: bool = False,
    actor,
    property_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Property:
    """Define what can be said of a subject: its value type and, for quantities, its unit."""
    with transaction.atomic():
        errors = Errors()
        _check_actor(errors, actor)
        key = errors.text("key", key, required=True)
        label = errors.text("label", label, required=True)
        value_type = errors.choice("value_type", value_type, ValueType.values)
        unit = errors.text("unit", unit)
        reason = errors.text("reason", reason)
        if value_type and value_type != ValueType.QUANTITY:
            if unit:
                errors.add("unit", UNIT_FOR_QUANTITY_ONLY)
            if count:
                errors.add("count", COUNT_FOR_QUANTITY_ONLY)
        if key and Property.objects.filter(key=key).exclude(pk=property_id).exists():
            errors.add("key", DUPLICATE_KEY.format(key=key))
        errors.raise_if_any()
        return _record(
            event=ev.PropertyDefined(
                property_id=str(property_id or uuid.uuid4()),
                key=key,
                label=label,
                value_type=value_type,
                unit=unit,
                count=bool(count),
            ),
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Property,
        )


# --- claims --------------------------------------------------------------------------------------


def _claim_fields(errors: Errors, prop, value, citation, attributed_to, note) -> dict:
    return {
        "value": normalise_value(errors, value, prop) if prop is not None else {},
        "citation": normalise_citation(errors, citation),
        "attributed_to": errors.text("attributed_to", attributed_to),
        "note": errors.text("note", note),
    }


def register_claim(
    *,
    subject_id: uuid.UUID,
    property_id: uuid.UUID,
    value: dict,
    citation: dict,
    attributed_to: str = "",
    note: str = "",
    actor,
    claim_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Claim:
    """Register one answer to a fact (subject · property), from one citation."""
    with transaction.atomic():
        errors = Errors()
        _check_actor(errors, actor)
        subject = _existing(errors, Subject, subject_id, "subject")
        prop = _existing(errors, Property, property_id, "property")
        fields = _claim_fields(errors, prop, value, citation, attributed_to, note)
        reason = errors.text("reason", reason)
        errors.raise_if_any()
        return _record(
            event=ev.ClaimRegistered(
                claim_id=str(claim_id or uuid.uuid4()),
                subject_id=str(subject.pk),
                property_id=str(prop.pk),
                **fields,
            ),
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Claim,
        )


def revise_claim(
    *,
    claim_id: uuid.UUID,
    expected_version: int,
    value: dict,
    citation: dict,
    attributed_to: str = "",
    note: str = "",
    reason: str,
    actor,
    event_id: uuid.UUID | None = None,
) -> Claim:
    """Record a new revision of a claim's value, citation, attribution or note."""
    with transaction.atomic():
        errors = Errors()
        _check_actor(errors, actor)
        claim = _existing(errors, Claim, claim_id, "claim")
        prop = claim.property if claim is not None else None
        fields = _claim_fields(errors, prop, value, citation, attributed_to, note)
        reason = errors.text("reason", reason, required=True)
        if claim is not None and not errors.messages:
            previous = {
                "value": claim.value,
                "citation": {
                    "source_id": str(claim.source_id),
                    "locator": claim.locator,
                    "quote": claim.quote,
                    "start": claim.quote_start,
                    "end": claim.quote_end,
                },
                "attributed_to": claim.attributed_to,
                "note": claim.note,
            }
            _check_changed(errors, previous, fields)
        errors.raise_if_any()
        return _record(
            event=ev.ClaimRevised(claim_id=str(claim.pk), **fields),
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            event_id=event_id,
            model=Claim,
        )


__all__ = [
    "REQUIRED",
    "define_property",
    "register_claim",
    "register_source",
    "register_subject",
    "revise_claim",
    "revise_source",
    "revise_subject",
]
