"""Register and revise sources: the documents, testimonies and data sets claims come from."""

from __future__ import annotations

import uuid
from datetime import date

from django.db import transaction

from records import events as ev
from records import workflow
from records.commands.base import (
    check_actor,
    idempotent,
    is_retry,
    load,
    record_event,
    registered_before,
    review_state,
)
from records.event_store import NO_STREAM
from records.models import Claim, PublishedClaim, Source
from records.validation import NOTHING_CHANGED, Errors

NOT_A_DATE = "Enter a date as YYYY-MM-DD."
URL_SCHEME = "Enter a URL starting with http:// or https://."
CITATIONS_BROKEN = (
    "{count} claim(s) quote passages that the new text no longer holds at their offsets: {ids}."
)


def source_fields(errors: Errors, fields: dict) -> dict:
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
    # Kept exactly as given: offsets count its characters.
    full_text = errors.text("full_text", fields.get("full_text"), strip=False)
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
        "full_text": full_text,
    }


def _current_fields(source: Source) -> dict:
    fields = {name: getattr(source, name) for name in Source.CONTENT_FIELDS}
    fields["accessed"] = source.accessed.isoformat() if source.accessed else None
    return fields


@idempotent
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
    """Register a document, testimony or data set that claims are taken from, as a draft."""
    check_actor(actor)
    workflow.check_can_author(actor, "register sources")
    retried = registered_before(event_id, Source)
    if retried is not None:
        return retried
    errors = Errors()
    fields = source_fields(errors, locals())
    reason = errors.text("reason", reason)
    errors.raise_if_any()
    with transaction.atomic():
        return record_event(
            event=ev.SourceRegistered(source_id=str(source_id or uuid.uuid4()), **fields),
            model=Source,
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )


@idempotent
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
    """Record a new draft revision of a source. Refused if it would break a claim's quote."""
    check_actor(actor)
    with transaction.atomic():
        if is_retry(event_id, source_id):
            return load(Source, source_id, "source")
        source = load(Source, source_id, "source")
        workflow.check_can_revise(review_state(source, "source"), actor)
        errors = Errors()
        fields = source_fields(errors, locals())
        reason = errors.text("reason", reason, required=True)
        if "full_text" not in errors:
            _check_citations_survive(errors, source, fields["full_text"])
        if fields == _current_fields(source):
            errors.add("__all__", NOTHING_CHANGED)
        errors.raise_if_any()
        return record_event(
            event=ev.SourceRevised(source_id=str(source.pk), **fields),
            model=Source,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )


def _check_citations_survive(errors: Errors, source: Source, new_text: str) -> None:
    """Every claim that quotes this source at offsets must find its quote there in the new text.
    (Claims without offsets were made while no text was held; they keep none.)"""
    if new_text == source.full_text:
        return
    # Published claims too: a claim's draft may quote elsewhere while its public face still
    # quotes here.
    quoting = [
        *Claim.objects.filter(source=source, quote_start__isnull=False),
        *PublishedClaim.objects.filter(source_id=source.pk, quote_start__isnull=False),
    ]
    broken = sorted(
        {
            str(claim.pk)
            for claim in quoting
            if new_text[claim.quote_start : claim.quote_end] != claim.quote
        }
    )
    if broken:
        errors.add("full_text", CITATIONS_BROKEN.format(count=len(broken), ids=", ".join(broken)))
