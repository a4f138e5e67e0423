"""The public gate: the one place that answers "what is published".

Every public read (API, pages, exports, change feed) goes through these functions. They read
only the published faces of records (``Published*``) and the property vocabulary, so drafts,
pending revisions, rejected records, review comments and account details cannot come out.

``as_of`` is a log position (an int, or a string of digits) or a time (a datetime, or an ISO 8601
string); the answer is what was published then. A position stands for the time its event was
recorded; recorded times strictly increase along the log, so that is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from records.hashing import canonical_time, content_digest, digest
from records.log_pages import page_end
from records.models import (
    Fact,
    Property,
    PublishedClaim,
    PublishedSource,
    PublishedSubject,
    StoredEvent,
)
from records.models.projections import PublicStatus, Rank, ValueType

AsOf = int | str | datetime | None
BAD_AS_OF = "as_of must be a log position (a whole number) or an ISO 8601 time, not {value!r}."
AS_OF_OUT_OF_RANGE = "as_of must fall within the years 1 to 9999 in UTC, not {value!r}."
BEFORE_EVERYTHING = datetime(1, 1, 1, tzinfo=UTC)


class BadAsOf(ValueError):
    pass


def is_whole_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def resolve_as_of(as_of: AsOf) -> datetime | None:
    """The time a public read should be answered for; None means now."""
    if as_of is None or as_of == "":
        return None
    if isinstance(as_of, datetime):
        return _in_utc(as_of, as_of)
    if isinstance(as_of, int) or (isinstance(as_of, str) and is_whole_number(as_of)):
        recorded = (
            StoredEvent.objects.filter(position__lte=int(as_of))
            .order_by("-position")
            .values_list("recorded_at", flat=True)
            .first()
        )
        return recorded or BEFORE_EVERYTHING
    if isinstance(as_of, str):
        try:
            parsed = parse_datetime(as_of)
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                parsed = datetime.combine(date.fromisoformat(as_of), datetime.max.time())
            except ValueError:
                parsed = None
        if parsed is not None:
            return _in_utc(parsed, as_of)
    raise BadAsOf(BAD_AS_OF.format(value=as_of))


def _in_utc(when: datetime, as_of: AsOf) -> datetime:
    """The databases compare times in UTC, and SQLite's conversion overflows outside the years
    1 to 9999 there (0001-01-01T00:00:00+01:00 is in year 0): refuse such a time up front."""
    aware = when if timezone.is_aware(when) else timezone.make_aware(when)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        raise BadAsOf(AS_OF_OUT_OF_RANGE.format(value=as_of)) from None


def _published(model, as_of: AsOf) -> QuerySet:
    when = resolve_as_of(as_of)
    if when is None:
        return model.objects.all()
    return model.history.as_of(when)


def published_sources(*, as_of: AsOf = None) -> QuerySet:
    return _published(PublishedSource, as_of)


def published_subjects(*, as_of: AsOf = None) -> QuerySet:
    return _published(PublishedSubject, as_of)


def published_properties(*, as_of: AsOf = None) -> QuerySet:
    """Properties are vocabulary: public once defined."""
    return _published(Property, as_of)


def published_claims(*, as_of: AsOf = None) -> QuerySet:
    """Published claims, retracted ones included (status "retracted", with reason and date)."""
    return _published(PublishedClaim, as_of)


def published_facts(*, as_of: AsOf = None) -> QuerySet:
    """Facts that have at least one published claim, with only their own, subject and property
    ids loaded. ``Fact`` links the *working* subject, which may carry a draft rename, and its
    ``registered_at`` is when the first claim was drafted: take the subject and property from
    the selectors above."""
    # A subquery, not a list: the database narrows the facts without every published claim's
    # fact id making a round trip through Python on each request.
    fact_ids = published_claims(as_of=as_of).order_by().values("fact_id")
    return Fact.objects.filter(pk__in=fact_ids).only("id", "subject", "property")


def claims_for_fact(fact_id: UUID, *, as_of: AsOf = None) -> list:
    return list(published_claims(as_of=as_of).filter(fact_id=fact_id))


@dataclass(frozen=True)
class FactSummary:
    claims: int
    sources: int
    lowest: Decimal | date | None
    highest: Decimal | date | None
    preferred_claim_id: UUID | None
    disputed: bool


def summarise(claims: list, prop: Property) -> FactSummary:
    """The fact summary from DESIGN, over published claims. Retracted claims do not count.
    Deprecated claims count, but do not make a fact disputed: a reviewer deprecated them."""
    standing = [claim for claim in claims if claim.status != PublicStatus.RETRACTED]
    lowest = highest = None
    if prop.value_type == ValueType.QUANTITY:
        lowers = [c.quantity_lower for c in standing if c.quantity_lower is not None]
        uppers = [c.quantity_upper for c in standing if c.quantity_upper is not None]
    elif prop.value_type == ValueType.DATE:
        lowers = [c.date_earliest for c in standing if c.date_earliest is not None]
        uppers = [c.date_latest for c in standing if c.date_latest is not None]
    else:
        lowers = uppers = []
    if lowers:
        lowest, highest = min(lowers), max(uppers)
    preferred = next((c.id for c in standing if c.rank == Rank.PREFERRED), None)
    return FactSummary(
        claims=len(standing),
        sources=len({claim.source_id for claim in standing}),
        lowest=lowest,
        highest=highest,
        preferred_claim_id=preferred,
        disputed=_disputed([c for c in standing if c.rank != Rank.DEPRECATED], prop),
    )


def _disputed(claims: list, prop: Property) -> bool:
    if len(claims) < 2:
        return False
    if prop.value_type == ValueType.QUANTITY:
        # Intervals on a line all overlap exactly when the greatest lower bound is not above
        # the least upper bound.
        return max(c.quantity_lower for c in claims) > min(c.quantity_upper for c in claims)
    if prop.value_type == ValueType.DATE:
        return max(c.date_earliest for c in claims) > min(c.date_latest for c in claims)
    if prop.multivalued:
        return False  # several values are all true at once
    if prop.value_type == ValueType.TEXT:
        return len({c.text_value for c in claims}) > 1
    return len({c.subject_value_id for c in claims}) > 1


def fact_summary(fact_id: UUID, *, as_of: AsOf = None) -> FactSummary:
    fact = Fact.objects.select_related("property").get(pk=fact_id)
    return summarise(claims_for_fact(fact_id, as_of=as_of), fact.property)


@dataclass(frozen=True)
class PublishedRevision:
    """One state of a record's public face: a published revision, a rank change or a
    retraction. Carries no account details."""

    recorded_at: datetime
    change: str  # e.g. "RevisionApproved", "ClaimRanked: reason"
    record: object


PUBLISHED_MODELS = {"source": PublishedSource, "subject": PublishedSubject, "claim": PublishedClaim}


def published_history(record_type: str, record_id: UUID) -> list[PublishedRevision]:
    """Every public state of one record, oldest first."""
    rows = PUBLISHED_MODELS[record_type].history.filter(id=record_id).order_by("history_date")
    return [
        PublishedRevision(
            recorded_at=row.history_date, change=row.history_change_reason, record=row.instance
        )
        for row in rows
    ]


def disputed_fact_ids(*, as_of: AsOf = None) -> set[UUID]:
    """Ids of facts whose published claims dispute each other (for the ``disputed`` filter)."""
    claims = list(published_claims(as_of=as_of))
    by_fact: dict[UUID, list] = {}
    for claim in claims:
        by_fact.setdefault(claim.fact_id, []).append(claim)
    properties = {p.id: p for p in published_properties(as_of=as_of)}
    facts = Fact.objects.filter(pk__in=by_fact).values_list("id", "property_id")
    return {
        fact_id
        for fact_id, property_id in facts
        if summarise(by_fact[fact_id], properties[property_id]).disputed
    }


# --- the change feed ---------------------------------------------------------------------------

# Events whose every stored field is public: they publish, retract or rank a record, or define
# vocabulary. Every other event appears in the feed only as its position and digests.
PUBLIC_EVENT_TYPES = {"RevisionApproved", "ClaimRetracted", "ClaimRanked", "PropertyDefined"}


@dataclass(frozen=True)
class FeedEntry:
    position: int
    previous_hash: str
    hash: str
    public: bool
    # For a public event: its fields, with the metadata (which names the actor) as a digest.
    event: dict | None = None
    # For any other event: only the digest of its content.
    content_digest: str | None = None


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]
    # The last position the page read: its last entry's, or later where the events after that
    # fall outside as_of. The next page starts after it.
    read_to: int
    # Whether events follow the page (within as_of).
    more: bool


def change_feed(*, after: int = 0, limit: int = 100, as_of: AsOf = None) -> FeedPage:
    """Every event after ``after`` in log order, so a mirror follows the feed without gaps and
    can check each link of the hash chain (records.hashing.verify_feed). Only publication events
    show their content. A page holds at most ``limit`` events, and fewer once they hold
    ``records.log_pages.PAGE_BYTES`` of stored data: every event's data is read, to digest it,
    and a source may hold two million characters."""
    # The page's end is read where its events are: a replica, for a public read.
    end = page_end(after, limit, using=StoredEvent.objects.db)
    if end is None:
        return FeedPage(entries=[], read_to=after, more=False)
    when = resolve_as_of(as_of)
    in_view = StoredEvent.objects.all()
    if when is not None:
        in_view = in_view.filter(recorded_at__lte=when)
    events = in_view.filter(position__gt=after, position__lte=end).order_by("position")
    entries = []
    for stored in events:
        metadata_digest = digest(stored.metadata)
        if stored.event_type in PUBLIC_EVENT_TYPES:
            entries.append(
                FeedEntry(
                    position=stored.position,
                    previous_hash=stored.previous_hash,
                    hash=stored.hash,
                    public=True,
                    event={
                        "stream_id": str(stored.stream_id),
                        "stream_type": stored.stream_type,
                        "version": stored.version,
                        "event_type": stored.event_type,
                        "schema_version": stored.schema_version,
                        "data": stored.data,
                        "metadata_digest": metadata_digest,
                        "recorded_at": canonical_time(stored.recorded_at),
                    },
                )
            )
        else:
            entries.append(
                FeedEntry(
                    position=stored.position,
                    previous_hash=stored.previous_hash,
                    hash=stored.hash,
                    public=False,
                    content_digest=content_digest(
                        stream_id=stored.stream_id,
                        stream_type=stored.stream_type,
                        version=stored.version,
                        event_type=stored.event_type,
                        schema_version=stored.schema_version,
                        data=stored.data,
                        metadata_digest=metadata_digest,
                        recorded_at=stored.recorded_at,
                    ),
                )
            )
    # Times count up with positions in a log Strata wrote, but a restored one may not: past the
    # page's end, so that a page whose events all fall outside as_of cannot be asked again.
    return FeedPage(entries=entries, read_to=end, more=in_view.filter(position__gt=end).exists())
