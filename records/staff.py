"""What the staff pages read: the working records, drafts included. (The public reads through
records.selectors only.) Queries and arithmetic live here so that the admin stays thin."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal

from records.models import (
    Claim,
    PublishedClaim,
    PublishedSource,
    PublishedSubject,
    Source,
    Subject,
)
from records.models.projections import Status, ValueType
from records.validation import Errors
from records.values import locate_quote

REVIEWABLE = {"source": Source, "subject": Subject, "claim": Claim}
PUBLISHED = {"source": PublishedSource, "subject": PublishedSubject, "claim": PublishedClaim}


@dataclass(frozen=True)
class Change:
    field: str
    before: str  # as published ("" when never published)
    after: str  # as pending
    diff: str = ""  # for long texts: only the lines that changed, as a unified diff


@dataclass(frozen=True)
class Pending:
    kind: str
    record: object
    changes: list[Change]


def _authored_by(record, user) -> bool:
    return user.pk in (record.revision_authors or ())


def awaiting(user) -> list[tuple[str, object]]:
    """Every record in review that ``user`` had no hand in, oldest submission first."""
    waiting = [
        (kind, record)
        for kind, model in REVIEWABLE.items()
        for record in model.objects.filter(status=Status.IN_REVIEW)
        if not _authored_by(record, user)
    ]
    return sorted(waiting, key=lambda item: item[1].status_changed_at)


def review_queue(user) -> list[Pending]:
    """The records ``awaiting`` the reviewer, each with what it changes."""
    return [
        Pending(kind, record, changes_from_published(kind, record))
        for kind, record in awaiting(user)
    ]


def my_work(user, status: str) -> list[tuple[str, object]]:
    """The records in ``status`` whose revision under work ``user`` wrote part of."""
    return [
        (kind, record)
        for kind, model in REVIEWABLE.items()
        for record in model.objects.filter(status=status).order_by("-updated_at")
        if _authored_by(record, user)
    ]


# What a reviewer compares, in reading order; ids and derived columns are left out.
DIFF_FIELDS = {
    "source": Source.CONTENT_FIELDS,
    "subject": ("kind", "label", "names"),
    # A claim's fact never changes, and its value shows through the typed columns.
    "claim": tuple(
        field
        for field in Claim.CONTENT_FIELDS
        if field not in {"value_type", "value", "fact_id", "subject_id", "property_id"}
    ),
}
LABELS = {"subject_value_id": "subject value", "source_id": "source", "quote_start": "quote start"}


def _readable(field: str, value) -> str:
    """A field's value as a reviewer reads it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if field == "names":
        return "\n".join(
            f"{name['name']} ({name.get('language', 'und')}){' [label]' if name['primary'] else ''}"
            for name in value
        )
    if field == "source_id":
        return str(Source.objects.filter(pk=value).values_list("title", flat=True).first())
    if field == "subject_value_id":
        return str(Subject.objects.filter(pk=value).values_list("label", flat=True).first())
    return str(value)


def _diff(before: str, after: str) -> str:
    if "\n" not in before + after and len(before) + len(after) < 400 or not before:
        return ""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)
    return "\n".join(list(lines)[2:])  # without the ---/+++ file header


def changes_from_published(kind: str, record) -> list[Change]:
    """The fields where the pending revision differs from the published one (against nothing,
    for a record never published)."""
    published = PUBLISHED[kind].objects.filter(pk=record.pk).first()
    changes = []
    for field in DIFF_FIELDS[kind]:
        after = _readable(field, getattr(record, field))
        before = _readable(field, getattr(published, field)) if published is not None else ""
        if after != before:
            label = LABELS.get(field, field.replace("_", " "))
            changes.append(Change(label, before, after, _diff(before, after)))
    return changes


@dataclass(frozen=True)
class ClaimBar:
    """Where one claim's range and best value sit on the fact page's scale, in percent."""

    claim: Claim
    left: float | None
    width: float | None
    point: float | None


def _bounds(claim: Claim) -> tuple:
    if claim.value_type == ValueType.QUANTITY:
        best = claim.quantity_best
        lower, upper = claim.quantity_lower, claim.quantity_upper
        return (best if lower is None else lower, best if upper is None else upper, best)
    if claim.value_type == ValueType.DATE and claim.date_earliest:
        return (claim.date_earliest.toordinal(), claim.date_latest.toordinal(), None)
    return (None, None, None)


def claims_side_by_side(fact) -> list[ClaimBar]:
    """A fact's claims, every status, with the geometry of the range visual."""
    claims = list(
        Claim.objects.filter(fact=fact)
        .select_related("source", "subject_value")
        .order_by("registered_at")
    )
    spans = {claim.pk: _bounds(claim) for claim in claims}
    ends = [end for span in spans.values() for end in span[:2] if end is not None]
    if not ends:
        return [ClaimBar(claim, None, None, None) for claim in claims]
    low, high = min(ends), max(ends)
    # A fact whose claims all agree still gets a visible mark: widen the scale around it.
    scale = (high - low) or 1

    def percent(at) -> float | None:
        return None if at is None else round(float(Decimal(at - low) / Decimal(scale)) * 100, 2)

    bars = []
    for claim in claims:
        lower, upper, best = spans[claim.pk]
        left, right = percent(lower), percent(upper)
        width = None if left is None else max(right - left, 0.6)
        bars.append(ClaimBar(claim, left, width, percent(best)))
    return bars


@dataclass(frozen=True)
class QuoteCheck:
    start: int | None = None
    end: int | None = None
    before: str = ""
    match: str = ""
    after: str = ""
    errors: dict | None = None


CONTEXT = 160  # characters of the source shown either side of a located quote


def check_quote(source: Source, quote: str, start=None, end=None) -> QuoteCheck:
    """The citation helper: find (or verify) the quote's offsets in the source's working text,
    as register_claim will, and cut the passage around it for display."""
    errors = Errors()
    start, end = locate_quote(errors, source.full_text, quote, start, end)
    if errors.messages:
        return QuoteCheck(errors=dict(errors.messages))
    if start is None:
        return QuoteCheck()  # the source holds no text: nothing to check against
    text = source.full_text
    return QuoteCheck(
        start=start,
        end=end,
        before=text[max(0, start - CONTEXT) : start],
        match=text[start:end],
        after=text[end : end + CONTEXT],
    )
