"""What the staff pages read: the working records, drafts included. (The public reads through
records.selectors only.) Queries and arithmetic live here so that the admin stays thin."""

from __future__ import annotations

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
class Pending:
    kind: str
    record: object
    changes: list[tuple[str, object, object]]  # (field, published value, pending value)


def _authored_by(record, user) -> bool:
    return user.pk in (record.revision_authors or ())


def review_queue(user) -> list[Pending]:
    """Every record in review that ``user`` had no hand in, oldest first, with its changes."""
    pending = []
    for kind, model in REVIEWABLE.items():
        for record in model.objects.filter(status=Status.IN_REVIEW).order_by("status_changed_at"):
            if not _authored_by(record, user):
                pending.append(Pending(kind, record, changes_from_published(kind, record)))
    return sorted(pending, key=lambda item: item.record.status_changed_at)


def my_work(user, status: str) -> list[tuple[str, object]]:
    """The records in ``status`` whose revision under work ``user`` wrote part of."""
    return [
        (kind, record)
        for kind, model in REVIEWABLE.items()
        for record in model.objects.filter(status=status).order_by("-updated_at")
        if _authored_by(record, user)
    ]


def changes_from_published(kind: str, record) -> list[tuple[str, object, object]]:
    """The content fields where the pending revision differs from the published one (all of
    them, against nothing, for a record never published)."""
    published = PUBLISHED[kind].objects.filter(pk=record.pk).first()
    changes = []
    for field in record.CONTENT_FIELDS:
        if field == "search_text":
            continue  # derived from the names
        now = getattr(record, field)
        before = getattr(published, field) if published is not None else None
        if now != before:
            changes.append((field, before, now))
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
        return (claim.quantity_lower or best, claim.quantity_upper or best, best)
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
