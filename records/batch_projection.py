"""The projector in pages: the same handlers, with reads and writes gathered per page of events.

Projecting one event at a time costs several round trips per event (read the record, update it,
insert its history row). A replay or an import projects thousands of events in a row, so
``BatchProjector`` reads every record a page of events touches in one query per model, applies
the handlers to those records in memory, and writes the page back in a few bulk statements:
the records it changed, one history row per change (stamped exactly as django-simple-history
stamps them on a save, so a replay in pages equals a replay one event at a time), and the review
comments. Memory stays flat: nothing is kept from one page to the next.

The handlers run once per event, so this module keeps their bookkeeping cheap: each history row
is a tuple of the record's values taken in one ``attrgetter`` call, ids arriving as text are
parsed once a page, and each event type's handler is looked up once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import attrgetter

from django.db import InterfaceError, InternalError, OperationalError
from django.db.models.base import ModelState

from records import events as ev
from records.bulk_write import insert_rows, insert_values
from records.event_store import EventRow
from records.models import Claim, Fact, PublishedClaim, ReviewComment, Source, StoredEvent, Subject
from records.models.projections import fact_id_for
from records.projections import (
    PROJECTION_MODELS,
    PUBLISHED_MODELS,
    WORKING_MODELS,
    Projector,
)

PAGE_SIZE = 2000

# The history model's own columns; every other column copies the record's field of that name.
_HISTORY_COLUMNS = {"history_id", "history_date", "history_change_reason", "history_type"}
# What _write appends to the record's values in each history row, in this order.
_HISTORY_STAMP = ("history_date", "history_type", "history_user_id", "history_change_reason")


def _touched(event) -> Iterator[tuple[type, uuid.UUID]]:
    """The records an event's handler reads, so that a page can read them all at once."""
    if isinstance(event, ev.SourceRevised):
        yield Source, event.source_id
    elif isinstance(event, ev.SubjectRevised):
        yield Subject, event.subject_id
    elif isinstance(event, ev.ClaimRegistered):
        yield Fact, fact_id_for(event.subject_id, event.property_id)
    elif isinstance(event, ev.ClaimRevised):
        yield Claim, event.claim_id
    elif isinstance(event, ev.ClaimRetracted | ev.ClaimRanked):
        yield Claim, event.claim_id
        yield PublishedClaim, event.claim_id
    elif isinstance(event, ev.ReviewEvent):
        yield WORKING_MODELS[event.record_type], event.record_id
        if isinstance(event, ev.RevisionApproved):
            yield PUBLISHED_MODELS[event.record_type], event.record_id


# Properties are defined once and never read back by a handler: nothing to leave out for them.
_REGISTERING = tuple(kind for kind in ev.OPENING_EVENTS if kind.stream_type in WORKING_MODELS)


def _registered(event) -> Iterator[tuple[type, str]]:
    """The records an event registers: its working record and the published face it will have.
    Neither is in the database before the page that registers them, so the page need not look
    for them there: a record is registered once (``ev.OPENING_EVENTS``), and a page's events
    are the log's next ones. (That also takes each registration's record id to be its stream's,
    as ``append`` files it and a restore checks.)"""
    if isinstance(event, _REGISTERING):
        yield WORKING_MODELS[event.stream_type], event.stream_id
        yield PUBLISHED_MODELS[event.stream_type], event.stream_id


def _history_columns(history_model) -> list[str]:
    return [
        field.attname
        for field in history_model._meta.concrete_fields
        if field.attname not in _HISTORY_COLUMNS and field.attname != "history_user_id"
    ]


def _values_getter(names: list[str]) -> Callable[[object], tuple]:
    """A function giving an object's attributes ``names`` as a tuple, in one C call."""
    get = attrgetter(*names)
    return get if len(names) > 1 else lambda record: (get(record),)


def _record_maker(model) -> Callable[[dict], object]:
    """A function making ``model(**values)`` for values given by attname, without Django's
    constructor: an import registers a record for every event, and the constructor's walk over
    each field (default, descriptor, signal) took a sixth of projecting one (26 µs a claim).
    The record's attributes are the very ones the constructor sets: every concrete field's
    attname (its default, a callable one called afresh for each record) and ``_state``. Nothing
    listens to ``pre_init`` or ``post_init`` for these models (tests check both)."""
    fields = model._meta.concrete_fields
    names = frozenset(field.attname for field in fields)
    called = [field for field in fields if field.has_default() and callable(field.default)]
    fresh = [(field.attname, field.get_default) for field in called]
    fixed = {field.attname: field.get_default() for field in fields if field not in called}

    def make(values: dict):
        if not names.issuperset(values):
            raise TypeError(f"{model.__name__} has no field {sorted(values.keys() - names)}")
        record = model.__new__(model)
        attributes = record.__dict__
        attributes["_state"] = ModelState()
        attributes.update(fixed)
        for name, default in fresh:
            attributes[name] = default()
        attributes.update(values)
        return record

    return make


@functools.cache
def _handler(event_type: type) -> Callable:
    # singledispatchmethod builds and wraps a bound function on every call (Python 3.11), a few
    # percent of a replay; its dispatcher gives the plain function, looked up once per type.
    return Projector.__dict__["handle"].dispatcher.dispatch(event_type)


class BatchProjector(Projector):
    def __init__(self) -> None:
        super().__init__()
        # model.history builds a new manager on every access: look each history model up once.
        self._history_models = {
            model: model.history.model for model in PROJECTION_MODELS if hasattr(model, "history")
        }
        self._history_fields = {
            model: _history_columns(history) for model, history in self._history_models.items()
        }
        self._history_values = {
            model: _values_getter(fields) for model, fields in self._history_fields.items()
        }
        self._record_columns = {
            model: [field.attname for field in model._meta.concrete_fields]
            for model in PROJECTION_MODELS
        }
        self._record_values = {
            model: _values_getter(columns) for model, columns in self._record_columns.items()
        }
        self._record_makers = {model: _record_maker(model) for model in PROJECTION_MODELS}
        self._start_page()

    def _start_page(self) -> None:
        self._records: dict[tuple[type, uuid.UUID], object] = {}  # what the page has read or made
        self._absent: set[tuple[type, uuid.UUID]] = set()  # looked for and not in the database
        self._stored: set[tuple[type, uuid.UUID]] = set()  # in the database before this page
        self._changed: dict[type, dict[uuid.UUID, object]] = {
            model: {} for model in PROJECTION_MODELS
        }
        self._history: dict[type, list[tuple]] = {model: [] for model in self._history_fields}
        self._comments: list[dict] = []
        self._uuids: dict[str, uuid.UUID] = {}  # ids given as text, parsed

    def _key(self, model, pk) -> tuple[type, uuid.UUID]:
        # Events carry ids as text, the database gives UUIDs: one form for both. An id recurs
        # on most of a page's events about its record; parse each one once.
        if isinstance(pk, uuid.UUID):
            return model, pk
        parsed = self._uuids.get(pk)
        if parsed is None:
            parsed = self._uuids[pk] = uuid.UUID(pk)
        return model, parsed

    def handle(self, event, stored):
        """Projector.handle's handlers, dispatched without singledispatchmethod's wrapping."""
        return _handler(type(event))(self, event, stored)

    # --- reads ---------------------------------------------------------------------------------

    def read_ahead(self, keys: Iterable[tuple[type, uuid.UUID]]) -> None:
        """Read, one query per model, every stored record of ``keys`` (``_wanted``) not yet read."""
        wanted: dict[type, set[uuid.UUID]] = {}
        for key in keys:
            if key not in self._records and key not in self._absent:
                wanted.setdefault(key[0], set()).add(key[1])
        for model, pks in wanted.items():
            found = model.objects.in_bulk(list(pks))
            for pk, record in found.items():
                key = self._key(model, pk)
                self._records[key] = record
                self._stored.add(key)
            self._absent.update((model, pk) for pk in pks - found.keys())

    def _wanted(self, event) -> list[tuple[type, uuid.UUID]]:
        """The records ``event``'s handler will read, as keys; an id that is not one raises."""
        return [self._key(model, pk) for model, pk in _touched(event)]

    def _find(self, model, pk):
        key = self._key(model, pk)
        if key in self._records:
            return self._records[key]
        if key in self._absent:
            return None
        record = super()._find(model, pk)  # not read ahead: a handler this module does not know
        if record is None:
            self._absent.add(key)
        else:
            self._records[key] = record
            self._stored.add(key)
        return record

    def _get(self, model, pk):
        record = self._find(model, pk)
        if record is None:
            raise model.DoesNotExist(f"{model.__name__} {pk} is not projected")
        return record

    def _new_record(self, model, **values):
        return self._record_makers[model](values)

    # --- writes --------------------------------------------------------------------------------

    def _write(self, record) -> None:
        model = type(record)
        key = self._key(model, record.pk)
        # "+" the first time the record is written, "~" after: what simple-history's post_save
        # handler would record for a save that inserts or updates.
        history_type = "~" if key in self._records and key not in self._absent else "+"
        self._records[key] = record
        self._absent.discard(key)
        self._changed[model][key[1]] = record
        values = self._history_values.get(model)
        if values is not None:
            # The row is taken now: the record may change again later in the page.
            self._history[model].append(
                values(record)
                + (
                    record._history_date,
                    history_type,
                    getattr(record._history_user, "pk", None),
                    record._change_reason,
                )
            )

    def _insert_comment(self, columns: dict) -> None:
        self._comments.append(columns)

    def flush(self) -> None:
        """Write the page: changed records, their history rows, the comments."""
        for model in reversed(PROJECTION_MODELS):
            # Records read from the database are deleted and inserted again rather than updated:
            # one statement each instead of bulk_update's CASE per row and column, and no
            # partial unique index (one preferred claim per fact) can trip over the order of rows
            # within an UPDATE when a page both demotes one claim and prefers another.
            stale = [pk for pk in self._changed[model] if (model, pk) in self._stored]
            if stale:
                model.objects.filter(pk__in=stale)._raw_delete(model.objects.db)
        for model in PROJECTION_MODELS:
            self._insert_records(model, self._changed[model].values())
        for model, rows in self._history.items():
            columns = [*self._history_fields[model], *_HISTORY_STAMP]
            # A record's JSON values are one object in each of its history rows of a page.
            insert_values(self._history_models[model], columns, rows, shared_json=True)
        insert_rows(ReviewComment, self._comments)
        self._start_page()

    def _insert_records(self, model, records: Iterable) -> None:
        values = self._record_values[model]
        insert_values(model, self._record_columns[model], map(values, records))

    def project(
        self, events: Iterable[StoredEvent | EventRow], on_event=None, *, page_size: int = PAGE_SIZE
    ) -> int:
        """Project stored events in position order, ``page_size`` at a time (``project_pages``)."""
        stream = iter(events)
        return self.project_pages(iter(lambda: list(islice(stream, page_size)), []), on_event)

    def project_pages(self, pages: Iterable[list[StoredEvent | EventRow]], on_event=None) -> int:
        """Project pages of stored events (or EventRows, as a replay reads them), in position
        order, each page read and written at once. Call inside a transaction: a page half
        written must not be seen, nor survive an error. Any error is raised as
        ``ProjectionFailed``, naming the event (or, when the database refuses a page's rows, the
        page's events), its cause chained; the database's own faults are raised as they are."""
        projected = 0
        # try blocks rather than a context manager per event: entering one costs nothing.
        for page in pages:
            decoded, keys = [], []
            try:
                for stored in page:
                    event = stored.domain_event()
                    keys += self._wanted(event)
                    # Known absent: read_ahead leaves them out, and _find does not look for them.
                    self._absent.update(self._key(model, pk) for model, pk in _registered(event))
                    decoded.append((event, stored))
            except _FAULTS_OF_THE_DATABASE:
                raise
            except Exception as error:
                raise ProjectionFailed.because(error, stored) from error
            _for_the_page(
                page,
                functools.partial(self.read_ahead, keys),
                "the records they change could not be read",
            )
            for event, stored in decoded:
                try:
                    self.handle(event, stored)
                except _FAULTS_OF_THE_DATABASE:
                    raise
                except Exception as error:
                    raise ProjectionFailed.because(error, stored) from error
                projected += 1
                if on_event is not None:
                    on_event()
            _for_the_page(page, self.flush, "the records they make could not be written")
        return projected


def _for_the_page(page: list, step: Callable[[], None], what: str) -> None:
    """Run a step that reads or writes the whole page's records: a failure is the page's."""
    try:
        step()
    except _FAULTS_OF_THE_DATABASE:
        raise
    except Exception as error:
        raise ProjectionFailed.because(error, page[0], page[-1], what) from error


# The connection lost, the server out of resources or shutting down, a statement cancelled: no
# fault of the events, so raised as they are, never as an event's failure.
_FAULTS_OF_THE_DATABASE = (OperationalError, InterfaceError, InternalError)


class ProjectionFailed(Exception):
    """An event that could not be projected, or a page of events whose records could not be
    read or written (most often the database refusing a value in them): which, and why.

    Whatever a projection raises becomes this, but for the database's own faults: a forged or
    corrupt event can make a handler fail in its own way (a record never registered, a number
    that is not one), and whoever must act on it needs the event's position more than the
    exception's type."""

    def __init__(self, reason: str, *, first_position: int, last_position: int) -> None:
        self.reason, self.first_position, self.last_position = reason, first_position, last_position
        if first_position == last_position:
            where = f"the event at position {first_position}"
        else:
            where = f"the events at positions {first_position} to {last_position}"
        super().__init__(f"{where}: {reason}")

    @classmethod
    def because(cls, error: Exception, first, last=None, what: str = "") -> ProjectionFailed:
        """The failure of the stored event ``first``, or of the page ``first`` to ``last``."""
        if last is None:
            what, last = f"{first.event_type} could not be projected", first
        return cls(
            f"{what}: {type(error).__name__}: {error}",
            first_position=first.position,
            last_position=last.position,
        )
