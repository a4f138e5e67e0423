"""Replay: the read models, history included, are exactly what replaying the log gives.

The property test drives the commands (the only write path) with random sequences: sources with
and without full text, subjects named in several scripts, properties of every value type, claims
citing quoted passages, revisions by two archivists, the review workflow (submit, withdraw,
approve, request changes, reject, comment, retract, rank) by reviewers, and commands that must be
refused and store nothing. After every sequence a rebuild from the log must give back exactly the
same rows and the hash chain must hold. The other tests pin history stamping and drift detection
down by hand.
"""

from __future__ import annotations

import functools
import io
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import event as label_example
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from records import commands
from records.batch_projection import PAGE_SIZE, BatchProjector
from records.event_store import ConcurrencyError, iter_log, read_stream
from records.hashing import verify_chain
from records.models import (
    Claim,
    Fact,
    Property,
    PublishedClaim,
    PublishedSource,
    PublishedSubject,
    Source,
    StoredEvent,
    Subject,
)
from records.models.projections import PublicStatus, Rank, Status
from records.projections import PROJECTION_MODELS
from records.replay import check_replay, identify_row, projection_tables, rebuild
from records.validation import NOTHING_CHANGED
from records.workflow import (
    ADMINISTRATOR,
    ARCHIVIST,
    FourEyes,
    RoleRequired,
    StaleRevision,
    WrongState,
)
from tests import factories
from tests.conftest import make_user

# --- the whole projected state, in Python, to compare a replay with the live state -----------
# (verify_archive compares in SQL; these keep every row, which is fine at test sizes and lets a
# failing test print the rows that differ.)


def _row_key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every read model and history table, in a comparable, order-free form.
    History ids are left out: they are surrogate keys that a replay numbers afresh."""
    state = {}
    for table in projection_tables():
        rows = [
            {key: value for key, value in row.items() if key != "history_id"}
            for row in table.objects.values()
        ]
        state[table._meta.label] = sorted(rows, key=_row_key)
    return state


def describe_differences(live: dict, replayed: dict, limit: int = 10) -> list[str]:
    differences = []
    for table in live:
        live_rows = {_row_key(row): row for row in live[table]}
        replayed_rows = {_row_key(row): row for row in replayed[table]}
        for key in live_rows.keys() - replayed_rows.keys():
            row = live_rows[key]
            differences.append(f"{table}: live row {identify_row(row)} is not what a replay gives")
        for key in replayed_rows.keys() - live_rows.keys():
            row = replayed_rows[key]
            differences.append(f"{table}: a replay gives row {identify_row(row)} that is not live")
    return differences[:limit]


# --- text in several scripts ---------------------------------------------------------------------

SENTENCES = [
    "On April 18, 1942, the raid took place.",
    "Chinese estimates put the death toll at 250,000 civilians.",
    "Others say around 200,000 died.",
    "浙贛作戦 is the Japanese name.",
    "日本軍は1942年5月に浙贛作戦を開始した。",
    "浙赣战役造成约二十五万平民死亡。",
    "Потери среди мирного населения оцениваются в 250 000 человек.",
    "قُتل نحو ٢٥٠٬٠٠٠ مدني.",
    "झेजियांग-जियांग्शी अभियान 1942 में हुआ।",
    "절공작전은 1942년에 일어났다.",
    "𠮷野家 has a character outside the Basic Multilingual Plane.",
    "Cafe\u0301 and Café are different sequences of code points.",
    "Shunroku Hata commanded the 13th Army.",
]

NAMES = [
    ("Zhejiang-Jiangxi Campaign", "en"),
    ("浙贛作戦", "ja"),
    ("浙赣战役", "zh-Hans"),
    ("Чжэцзян-Цзянсийская операция", "ru"),
    ("عملية تشجيانغ-جيانغشي", "ar"),
    ("झेजियांग-जियांग्शी अभियान", "hi"),
    ("절공작전", "ko"),
    ("Shunroku Hata", "en"),
    ("畑俊六", "ja"),
    ("Doolittle Raid", "en"),
    ("ドーリットル空襲", "ja"),
    ("𠮷野家", "ja"),
    ("Łódź", "pl"),
    ("Nguyễn Văn A", "vi"),
]

# Letters of several scripts, combining marks, characters beyond the BMP, and assorted spaces.
# (Not NUL: the commands refuse it, and one refusal below checks that.)
CHARACTERS = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),
    st.characters(min_codepoint=0x0400, max_codepoint=0x04FF),
    st.characters(min_codepoint=0x0620, max_codepoint=0x064A),
    st.characters(min_codepoint=0x0900, max_codepoint=0x097F),
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
    st.sampled_from([" ", "\u3000", "\u00a0", "\n", "\u200d"]),
)
WORDS = st.text(CHARACTERS, min_size=1, max_size=24)
SOME_TEXT = WORDS.filter(lambda text: text.strip())
PADDING = st.sampled_from(["", " ", "\u3000", "\n"])
LANGUAGES = st.sampled_from(["", "und", "en", "ja", "zh-Hant", "ru", "ar", "hi", "ko"])
LOCATORS = st.sampled_from(["", "p. 1", "f. 12v", "第3頁", "с. 45"])
REASONS = st.one_of(
    st.sampled_from(["Typo", "新しい資料による訂正", "Уточнение по архиву", "تصحيح"]), SOME_TEXT
)
MAYBE_REASON = st.one_of(st.just(""), REASONS)
LABELS = st.one_of(st.sampled_from(["civilian deaths", "終結日", "причина"]), SOME_TEXT)

EDTF = [
    "1942",
    "1942-05",
    "1942-09",
    "1944-02",
    "1942-09-18",
    "1942-05/1942-09",
    "1942-05-15/1942-09-30",
    "1942-09~",
    "1942?",
    "194X",
    "1942-21",  # spring 1942: an EDTF season, which looks like a month but is not one
]
WHOLE_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

REVIEW_ACTIONS = ["submit", "approve", "request changes", "withdraw", "comment", "reject"]
CLAIM_ACTIONS = ["rank", "retract"]
# What usually happens next to a record in each state (the first the likeliest); any action can
# still be drawn, and is then mostly refused.
NEXT_STEPS = {
    Status.DRAFT: ["submit", "comment"],
    Status.IN_REVIEW: ["approve", "request changes", "withdraw", "comment", "reject"],
    Status.CHANGES_REQUESTED: ["comment"],  # revising it makes it a draft again
    Status.PUBLISHED: ["rank", "comment", "retract"],
    Status.REJECTED: ["comment"],
    Status.RETRACTED: ["comment", "rank"],
}
DECISIONS = {
    "approve": commands.approve_revision,
    "request changes": commands.request_changes,
    "reject": commands.reject_revision,
}
DECIDED = {
    "approve": ("RevisionApproved", Status.PUBLISHED),
    "request changes": ("ChangesRequested", Status.CHANGES_REQUESTED),
    "reject": ("RevisionRejected", Status.REJECTED),
}


def _change_reason(event_type: str, reason: str) -> str:
    reason = reason.strip()
    return f"{event_type}: {reason}" if reason else event_type


def _occurrences(text: str, quote: str) -> int:
    """Every place the quote starts, overlapping ones included."""
    count, start = 0, text.find(quote)
    while start != -1:
        count, start = count + 1, text.find(quote, start + 1)
    return count


# --- what the machine expects the archive to hold ------------------------------------------------


@dataclass(kw_only=True)
class Reviewed:
    """A source, subject or claim: its stream's version and where it stands in review."""

    id: uuid.UUID
    version: int = 1  # every event on its stream, review events included
    revision: int = 1  # content revisions only
    status: str = Status.DRAFT
    published: int | None = None  # the published revision
    authors: set[int] = field(default_factory=set)  # who wrote the revision since the approval

    @property
    def revisable(self) -> bool:
        return self.status not in (Status.IN_REVIEW, Status.REJECTED, Status.RETRACTED)

    def revised(self, actor) -> None:
        self.version += 1
        self.revision += 1
        self.status = Status.DRAFT
        self.authors.add(actor.pk)


@dataclass(kw_only=True)
class SourceState(Reviewed):
    fields: dict  # as the archive keeps them: stripped, accessed as an ISO date or None

    @property
    def text(self) -> str:
        return self.fields["full_text"]


@dataclass(kw_only=True)
class SubjectState(Reviewed):
    kind: str
    names: list[dict]

    @property
    def label(self) -> str:
        return next(name["name"] for name in self.names if name["primary"])


@dataclass
class PropertyState:
    id: uuid.UUID
    key: str
    value_type: str
    unit: str
    count: bool


@dataclass
class CitationState:
    source_id: uuid.UUID
    locator: str
    quote: str
    start: int | None
    end: int | None

    def restated(self) -> dict:
        """The citation as given again with its offsets, so nothing is located afresh."""
        return {
            "source_id": str(self.source_id),
            "locator": self.locator,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass(kw_only=True)
class ClaimState(Reviewed):
    prop: PropertyState
    subject_id: uuid.UUID
    value: dict  # the raw value last accepted
    citation: CitationState
    note: str = ""
    attributed_to: str = ""
    rank: str = Rank.NORMAL
    # The registration's arguments and citation, when it gave an event id to retry with.
    registration: tuple[dict, CitationState] | None = field(default=None, repr=False)

    @property
    def fact(self) -> tuple:
        return (self.subject_id, self.prop.id)


# Every projection table and its history table, as records.replay walks them.
TABLES = [
    table
    for model in PROJECTION_MODELS
    for table in (model, model.history.model if hasattr(model, "history") else None)
    if table is not None
]


def _rows() -> list[list[tuple]]:
    """Every row of every projection and history table, surrogate ids included: for a
    before-and-after comparison around a command, where nothing is renumbered, this is as strict
    as snapshot() and cheaper."""
    return [list(table.objects.order_by("pk").values_list()) for table in TABLES]


MODELS = {
    "source": (Source, PublishedSource),
    "subject": (Subject, PublishedSubject),
    "claim": (Claim, PublishedClaim),
}


def _step(function):
    """Mark the machine unclean while a rule runs, so that teardown skips the replay check when
    the sequence already failed: the first failure is the one worth reporting."""

    @functools.wraps(function)
    def run(self, **kwargs):
        self.clean = False
        function(self, **kwargs)
        self.clean = True

    return run


class ArchiveMachine(RuleBasedStateMachine):
    def __init__(self, people: dict):
        super().__init__()
        self.people = people
        self.authors = [people["archivist"], people["archivist2"], people["editor"]]
        self.reviewers = [people["reviewer"], people["editor"]]
        self.team = [*self.authors, people["reviewer"]]
        self.sources: list[SourceState] = []
        self.subjects: list[SubjectState] = []
        self.properties: list[PropertyState] = []
        self.claims: list[ClaimState] = []
        self.retries: list[tuple] = []  # (what, command, record id), accepted with an event id
        self.serial = 0
        self.events = StoredEvent.objects.count()
        self.rebuilt_at = self.events
        self.cached: tuple[int, list] | None = None
        self.clean = True
        # Each example runs in a savepoint that teardown rolls back, so examples start alike.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self):
        try:
            if self.clean:
                self.assert_replay_gives_the_live_state()
                chain = verify_chain(iter_log())
                assert chain.ok, chain
                assert chain.checked == self.events
        finally:
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    # --- bookkeeping -------------------------------------------------------------------------

    def fresh(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix} {self.serial}"

    def records(self, kind: str) -> list:
        return {"source": self.sources, "subject": self.subjects, "claim": self.claims}[kind]

    def find(self, kind: str, record_id):
        record_id = uuid.UUID(str(record_id))
        return next(state for state in self.records(kind) if state.id == record_id)

    def rows(self) -> list:
        """_rows() of the live state; they change only when a command is accepted."""
        if self.cached is None or self.cached[0] != self.events:
            self.cached = (self.events, _rows())
        return self.cached[1]

    def assert_nothing_changed(self, before: list, what: str):
        after = _rows()
        for table, rows_before, rows_after in zip(TABLES, before, after, strict=True):
            assert rows_after == rows_before, f"{what}, yet {table._meta.label} rows changed"

    def assert_replay_gives_the_live_state(self):
        self.assert_the_archive_holds_what_was_accepted()
        live = snapshot()
        assert rebuild(page_size=getattr(self, "page_size", PAGE_SIZE)) == self.events
        self.cached = None  # a rebuild numbers history rows afresh
        replayed = snapshot()
        assert replayed == live, describe_differences(live, replayed)

    def assert_the_archive_holds_what_was_accepted(self):
        assert StoredEvent.objects.count() == self.events
        for kind, (model, published_model) in MODELS.items():
            states = self.records(kind)
            rows = model.objects.values_list(
                "id", "version", "revision", "status", "published_revision"
            )
            assert {row[0]: row[1:] for row in rows} == {
                state.id: (state.version, state.revision, state.status, state.published)
                for state in states
            }
            assert dict(published_model.objects.values_list("id", "revision")) == {
                state.id: state.published for state in states if state.published is not None
            }
        assert set(Property.objects.values_list("id", flat=True)) == {
            prop.id for prop in self.properties
        }

    def recorded(
        self,
        record,
        state,
        *,
        event_types: list[str],
        actor,
        reason: str = "",
        stamped: str | None = None,
    ):
        """The command appended ``event_types`` (the last on ``record``'s stream), projected
        them, and stamped the record's newest history row from the last one."""
        self.events += len(event_types)
        assert StoredEvent.objects.count() == self.events
        stored = list(StoredEvent.objects.order_by("-position")[: len(event_types)])[::-1]
        assert [event.event_type for event in stored] == event_types
        last = stored[-1]
        assert last.stream_id == uuid.UUID(str(record.pk)) == uuid.UUID(str(state.id))
        assert last.version == state.version == record.version
        assert last.metadata["actor"] == actor.username
        assert last.reason == reason.strip()
        assert record.last_position == last.position
        assert record.history.count() == state.version  # one history row per event
        newest = record.history.first()
        assert newest.history_user_id == actor.pk
        assert newest.history_date == last.recorded_at == record.updated_at
        stamped = reason if stamped is None else stamped
        assert newest.history_change_reason == _change_reason(last.event_type, stamped)
        if isinstance(state, Reviewed):
            self.check_review_state(record, state)
        for event_type in event_types:
            label_example(f"stored {event_type}")

    def check_review_state(self, record, state: Reviewed):
        assert (record.status, record.revision, record.published_revision) == (
            state.status,
            state.revision,
            state.published,
        )
        assert set(record.revision_authors) == state.authors
        [published_model] = [public for model, public in MODELS.values() if type(record) is model]
        published = published_model.objects.filter(pk=record.pk).first()
        assert (published.revision if published else None) == state.published
        if isinstance(state, ClaimState):
            assert record.rank == state.rank
            if published:
                retracted = state.status == Status.RETRACTED
                assert published.status == (
                    PublicStatus.RETRACTED if retracted else PublicStatus.PUBLISHED
                )

    def refused(self, expected, call, *, field_name: str | None = None, what: str = ""):
        """The command is refused, and nothing at all is stored or changed."""
        events, before = StoredEvent.objects.count(), self.rows()
        with pytest.raises(expected) as refusal:
            call()
        if field_name is not None:
            assert field_name in refusal.value.message_dict, refusal.value.message_dict
        assert StoredEvent.objects.count() == events == self.events
        self.assert_nothing_changed(before, f"refused ({what or expected.__name__})")
        label_example(f"refused: {what or expected.__name__}")
        return refusal.value

    def retryable(self, data, what: str, command, record_id):
        """Give the command an event id (sometimes), and remember it for a retry once accepted."""
        if not data.draw(st.booleans(), label="with an event id"):
            return command
        command = functools.partial(command, event_id=uuid.uuid4())
        return functools.partial(self._remember, what, command, record_id)

    def _remember(self, what, command, record_id):
        record = command()
        self.retries.append((what, command, record_id))
        return record

    # --- drawing inputs ----------------------------------------------------------------------

    def draw_author(self, data):
        return data.draw(st.sampled_from(self.authors), label="author")

    def draw_full_text(self, data) -> str:
        pieces = [data.draw(st.sampled_from(SENTENCES))]
        pieces += data.draw(st.lists(st.one_of(st.sampled_from(SENTENCES), WORDS), max_size=4))
        pieces = data.draw(st.permutations(pieces))
        return data.draw(st.sampled_from([" ", "\n", "\u3000", "\n\n"])).join(pieces)

    def draw_source_fields(
        self, data, current: dict | None = None, held: bool | None = None
    ) -> tuple[dict, dict]:
        """Keyword arguments for register_source/revise_source, and what the archive keeps."""
        given = {} if current is None else dict(current)
        if current is None or not data.draw(st.booleans(), label="keep the title"):
            given["title"] = data.draw(PADDING) + data.draw(SOME_TEXT) + data.draw(PADDING)
        for name, choices in {
            "author": st.sampled_from(["", "Li Wei", "畑俊六", "Иван Петров"]),
            "publisher": st.sampled_from(["", "Academia Sinica", "防衛庁防衛研修所戦史室"]),
            "published": st.sampled_from(["", "1967", "1942-09"]),
            "url": st.sampled_from(["", "https://example.org/zhejiang", "http://例え.jp/浙贛"]),
            "archive_reference": st.sampled_from(["", "C14060500300", "RG 18"]),
            "accessed": st.one_of(
                st.none(),
                st.dates(date(1990, 1, 1), date(2030, 12, 31)),
                st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(date.isoformat),
            ),
            "licence": st.sampled_from(["", "CC BY-SA 4.0", "public domain"]),
            "attribution": st.sampled_from(["", "Courtesy of the archive", "提供：防衛省"]),
        }.items():
            if current is None or data.draw(st.booleans(), label=f"new {name}"):
                given[name] = data.draw(choices, label=name)
        if current is None:
            if held is None:
                held = data.draw(st.booleans(), label="full text held")
            given["full_text"] = self.draw_full_text(data) if held else ""
        kept = {
            name: (value if name == "full_text" else value.strip())
            for name, value in given.items()
            if name != "accessed"
        }
        accessed = given.get("accessed")
        kept["accessed"] = accessed.isoformat() if isinstance(accessed, date) else accessed
        return given, kept

    def draw_names(self, data) -> tuple[list, list[dict]]:
        """Names as an archivist may give them (dicts or bare strings), and as kept."""
        count = data.draw(st.integers(1, 3), label="how many names")
        primary = data.draw(st.one_of(st.none(), st.integers(0, count - 1)), label="primary")
        given, kept = [], []
        for index in range(count):
            name, language = data.draw(
                st.one_of(st.sampled_from(NAMES), st.tuples(SOME_TEXT, LANGUAGES)), label="name"
            )
            name = data.draw(PADDING) + name
            if primary is None and data.draw(st.booleans(), label="bare string"):
                given.append(name)
                language = ""
            else:
                given.append({"name": name, "language": language, "primary": index == primary})
            kept.append(
                {
                    "name": name.strip(),
                    "language": language.strip() or "und",
                    "primary": index == (primary or 0),
                }
            )
        return given, kept

    def draw_value(self, data, prop: PropertyState) -> dict:
        value: dict = {}
        if data.draw(st.booleans(), label="state the type"):
            value["type"] = prop.value_type
        if prop.value_type == "quantity":
            if prop.count:
                numbers = st.integers(0, 10**8)
                shown = st.sampled_from([lambda n: n, str, lambda n: f"{n:_}"])
            else:
                numbers = st.decimals(-(10**6), 10**6, places=3)
                shown = st.sampled_from([lambda n: n, str, float])
            lower, best, upper = sorted(data.draw(st.lists(numbers, min_size=3, max_size=3)))
            form = data.draw(st.sampled_from(["best", "bounds", "both"]), label="quantity form")
            if form in ("best", "both"):
                value["best"] = data.draw(shown)(best)
            if form in ("bounds", "both"):
                value["lower"], value["upper"] = data.draw(shown)(lower), data.draw(shown)(upper)
            value["approximate"] = data.draw(st.booleans(), label="approximate")
            if data.draw(st.booleans(), label="state the unit"):
                value["unit"] = prop.unit
            template = data.draw(st.sampled_from(["around {}", "约{}人", "{} (est.)", "{}"]))
            value["original"] = template.format(best)
        elif prop.value_type == "date":
            edtf = data.draw(st.sampled_from(EDTF), label="edtf")
            value["edtf"] = edtf
            if WHOLE_MONTH.match(edtf):
                value["part"] = data.draw(st.sampled_from([None, "early", "mid", "late"]))
            value["original"] = data.draw(
                st.sampled_from([edtf, "early September, 1942", "昭和17年9月", "весной 1942"])
            )
        elif prop.value_type == "text":
            value["text"] = data.draw(SOME_TEXT, label="text")
            value["original"] = data.draw(PADDING) + value["text"]
        else:
            subject = data.draw(st.sampled_from(self.subjects), label="subject as value")
            value["subject_id"] = data.draw(st.sampled_from([str(subject.id), subject.id]))
            value["original"] = subject.label
        return value

    def draw_citation(self, data) -> tuple[dict, CitationState, str]:
        """A citation quoting its source: any passage of a held text, with or without offsets
        (without only when the passage occurs once), or any words when no text is held."""
        source = data.draw(st.sampled_from(self.sources), label="cited source")
        locator = data.draw(LOCATORS, label="locator")
        text = source.text
        if not text:
            quote = data.draw(st.one_of(st.sampled_from(SENTENCES), SOME_TEXT), label="quote")
            citation = {"source_id": str(source.id), "locator": locator, "quote": quote}
            return citation, CitationState(source.id, locator.strip(), quote, None, None), "none"
        start = data.draw(st.integers(0, len(text) - 1), label="quote start")
        end = data.draw(st.integers(start + 1, min(len(text), start + 60)), label="quote end")
        if not text[start:end].strip():
            start, end = 0, len(text)
        quote = text[start:end]
        mode = data.draw(st.sampled_from(["auto", "start", "end", "both"]), label="offsets")
        if mode == "auto" and _occurrences(text, quote) != 1:
            mode = "start"
        citation = {"source_id": data.draw(st.sampled_from([str(source.id), source.id]))}
        citation |= {"locator": locator, "quote": quote}
        if mode in ("start", "both"):
            citation["start"] = start
        if mode in ("end", "both"):
            citation["end"] = end
        return citation, CitationState(source.id, locator.strip(), quote, start, end), mode

    def holds(self, citation: CitationState) -> bool:
        """Restating this citation locates nothing afresh: its offsets still hold in its source's
        text, or it has none and no text is held."""
        text = self.find("source", citation.source_id).text
        if citation.start is None:
            return not text
        return text[citation.start : citation.end] == citation.quote

    def citations_broken_by(self, source: SourceState, new_text: str) -> bool:
        """The documented rule: a new text must hold every quote that a claim gives offsets for
        exactly there. Claims made while no text was held have none and never block."""
        if new_text == source.text:
            return False
        return any(
            new_text[claim.citation.start : claim.citation.end] != claim.citation.quote
            for claim in self.claims
            if claim.citation.source_id == source.id and claim.citation.start is not None
        )

    def check_claim(self, record: Claim, state: ClaimState):
        citation = state.citation
        assert record.subject_id == state.subject_id and record.property_id == state.prop.id
        fact = Fact.objects.get(subject_id=state.subject_id, property_id=state.prop.id)
        assert record.fact_id == fact.pk
        assert record.value_type == state.prop.value_type == record.value["type"]
        assert record.source_id == citation.source_id and record.locator == citation.locator
        assert (record.quote, record.quote_start, record.quote_end) == (
            citation.quote,
            citation.start,
            citation.end,
        )
        assert record.note == state.note and record.attributed_to == state.attributed_to
        for column, part in (
            ("quantity_best", "best"),
            ("quantity_lower", "lower"),
            ("quantity_upper", "upper"),
        ):
            if record.value.get(part) is not None:
                assert getattr(record, column) == Decimal(record.value[part])
        for column, part in (("date_earliest", "earliest"), ("date_latest", "latest")):
            if record.value.get(part) is not None:
                assert getattr(record, column).isoformat() == record.value[part]
        if state.prop.value_type == "subject":
            assert str(record.subject_value_id) == str(state.value["subject_id"])

    # --- the start of every sequence ---------------------------------------------------------

    @initialize(data=st.data())
    @_step
    def seed_the_archive(self, data):
        """A published source with text and a published subject, a property of each value type,
        and a claim submitted for review and taken a few steps further, so that every rule can
        run from the first step and claims start in varied states; the rest is drawn."""
        self.add_source(data, held=True)
        self.add_subject(data, "event")
        for value_type in ("quantity", "date", "text", "subject"):
            self.add_property(data, value_type, data.draw(LABELS))
        self.add_claim(data)
        for kind in ("source", "subject", "claim"):
            self.review(data, "submit", kind, self.records(kind)[0], self.people["archivist"])
        for kind in ("source", "subject"):
            reviewer = self.people["reviewer"]
            self.review(data, "approve", kind, self.records(kind)[0], reviewer, stale=False)
        self.review_walk(data, "claim", self.claims[0])
        self.rebuilt_at = self.events  # a rebuild "midway" comes after some drawn steps
        # Rebuilds replay in pages of this many events. Small pages make a record's events span
        # pages, so that records are read back, changed and written again between pages.
        self.page_size = data.draw(st.sampled_from([1, 2, 3, 7, PAGE_SIZE]), label="page size")

    # --- sources -----------------------------------------------------------------------------

    @precondition(lambda self: len(self.sources) < 3)
    @rule(data=st.data())
    @_step
    def register_source(self, data):
        self.add_source(data)

    def add_source(self, data, held=None):
        given, kept = self.draw_source_fields(data, held=held)
        actor, reason = self.draw_author(data), data.draw(MAYBE_REASON)
        kwargs = dict(given, actor=actor, reason=reason)
        if data.draw(st.booleans(), label="retryable"):
            kwargs |= {"source_id": uuid.uuid4(), "event_id": uuid.uuid4()}
        record = commands.register_source(**kwargs)
        state = SourceState(id=record.pk, fields=kept, authors={actor.pk})
        self.recorded(record, state, event_types=["SourceRegistered"], actor=actor, reason=reason)
        for name, value in kept.items():
            shown = getattr(record, name)
            assert (shown.isoformat() if isinstance(shown, date) else shown) == value, name
        assert record.registered_by == actor
        self.sources.append(state)
        if "event_id" in kwargs:
            self.retries.append(
                ("register_source", functools.partial(commands.register_source, **kwargs), state.id)
            )

    @rule(data=st.data())
    @_step
    def revise_source(self, data):
        source = data.draw(st.sampled_from(self.sources), label="source")
        given, kept = self.draw_source_fields(data, current=source.fields)
        text = source.text
        change = data.draw(
            st.sampled_from(["append", "keep", "quotes only", "replace", "prepend", "clear"]),
            label="text change",
        )
        sentence = data.draw(st.sampled_from(SENTENCES))
        given["full_text"] = kept["full_text"] = {
            "keep": text,
            "append": f"{text} {sentence}" if text else sentence,
            "prepend": f"{sentence} {text}",
            "replace": self.draw_full_text(data),
            "clear": "",
            "quotes only": " | ".join(
                claim.citation.quote
                for claim in self.claims
                if claim.citation.source_id == source.id
            )
            or sentence,
        }[change]
        actor, reason = self.draw_author(data), data.draw(REASONS)
        revise = functools.partial(
            commands.revise_source,
            source_id=source.id,
            expected_version=source.version,
            reason=reason,
            actor=actor,
            **given,
        )
        if not source.revisable:
            self.refused(WrongState, revise, what=f"source revised while {source.status}")
            return
        broken = self.citations_broken_by(source, kept["full_text"])
        if broken or kept == source.fields:
            refusal = self.refused(ValidationError, revise, what="source revision")
            if broken:
                assert "full_text" in refusal.message_dict
            else:
                assert refusal.message_dict == {"__all__": [NOTHING_CHANGED]}
            return
        record = self.retryable(data, "revise_source", revise, source.id)()
        source.revised(actor)
        source.fields = kept
        self.recorded(record, source, event_types=["SourceRevised"], actor=actor, reason=reason)
        assert record.full_text == kept["full_text"] and record.title == kept["title"]

    # --- subjects ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.subjects) < 4)
    @rule(data=st.data(), kind=st.sampled_from(["event", "person", "place", "organisation"]))
    @_step
    def register_subject(self, data, kind):
        self.add_subject(data, kind)

    def add_subject(self, data, kind):
        given, kept = self.draw_names(data)
        actor, reason = self.draw_author(data), data.draw(MAYBE_REASON)
        kwargs = {"kind": kind, "names": given, "actor": actor, "reason": reason}
        if data.draw(st.booleans(), label="retryable"):
            kwargs |= {"subject_id": uuid.uuid4(), "event_id": uuid.uuid4()}
        record = commands.register_subject(**kwargs)
        state = SubjectState(id=record.pk, kind=kind, names=kept, authors={actor.pk})
        self.recorded(record, state, event_types=["SubjectRegistered"], actor=actor, reason=reason)
        assert (record.kind, record.names, record.label) == (kind, kept, state.label)
        assert record.search_text == "\n".join(name["name"] for name in kept)
        self.subjects.append(state)
        if "event_id" in kwargs:
            register = functools.partial(commands.register_subject, **kwargs)
            self.retries.append(("register_subject", register, state.id))

    @rule(data=st.data())
    @_step
    def revise_subject(self, data):
        subject = data.draw(st.sampled_from(self.subjects), label="subject")
        kind = data.draw(st.sampled_from(["event", "person", "place", "object"]), label="kind")
        if data.draw(st.booleans(), label="keep the names"):
            given, kept = subject.names, subject.names
        else:
            given, kept = self.draw_names(data)
        actor, reason = self.draw_author(data), data.draw(REASONS)
        revise = functools.partial(
            commands.revise_subject,
            subject_id=subject.id,
            expected_version=subject.version,
            kind=kind,
            names=given,
            reason=reason,
            actor=actor,
        )
        if not subject.revisable:
            self.refused(WrongState, revise, what=f"subject revised while {subject.status}")
            return
        if (kind, kept) == (subject.kind, subject.names):
            refusal = self.refused(ValidationError, revise, what="unchanged subject")
            assert refusal.message_dict == {"__all__": [NOTHING_CHANGED]}
            return
        record = self.retryable(data, "revise_subject", revise, subject.id)()
        subject.revised(actor)
        subject.kind, subject.names = kind, kept
        self.recorded(record, subject, event_types=["SubjectRevised"], actor=actor, reason=reason)
        assert (record.names, record.label) == (kept, subject.label)

    # --- properties --------------------------------------------------------------------------

    @precondition(lambda self: len(self.properties) < 6)
    @rule(
        data=st.data(),
        value_type=st.sampled_from(["quantity", "date", "text", "subject"]),
        label=LABELS,
    )
    @_step
    def define_property(self, data, value_type, label):
        self.add_property(data, value_type, label)

    def add_property(self, data, value_type, label):
        unit, count = "", False
        if value_type == "quantity":
            unit = data.draw(st.sampled_from(["persons", "km", "", "人"]), label="unit")
            count = data.draw(st.booleans(), label="count")
        key = self.fresh(f"p {value_type}").replace(" ", "-")
        actor = self.draw_author(data)
        kwargs = {
            "key": key,
            "label": label,
            "value_type": value_type,
            "unit": unit,
            "count": count,
            "multivalued": data.draw(st.booleans(), label="multivalued"),
            "actor": actor,
        }
        if data.draw(st.booleans(), label="retryable"):
            kwargs |= {"property_id": uuid.uuid4(), "event_id": uuid.uuid4()}
        record = commands.define_property(**kwargs)
        state = PropertyState(record.pk, key, value_type, unit, count)
        self.events += 1
        assert StoredEvent.objects.count() == self.events
        stored = StoredEvent.objects.order_by("-position").first()
        assert stored.event_type == "PropertyDefined" and stored.stream_id == record.pk
        assert (record.version, record.last_position) == (1, stored.position)
        [history] = record.history.all()
        assert (history.history_user, history.history_date) == (actor, stored.recorded_at)
        assert (record.key, record.label, record.unit, record.count, record.multivalued) == (
            key,
            label.strip(),
            unit,
            count,
            kwargs["multivalued"],
        )
        self.properties.append(state)
        if "event_id" in kwargs:
            define = functools.partial(commands.define_property, **kwargs)
            self.retries.append(("define_property", define, state.id))

    # --- claims ------------------------------------------------------------------------------

    @rule(data=st.data())
    @_step
    def register_claim(self, data):
        self.add_claim(data)

    def add_claim(self, data):
        prop = data.draw(st.sampled_from(self.properties), label="property")
        subject = data.draw(st.sampled_from(self.subjects), label="subject")
        value = self.draw_value(data, prop)
        citation, cited, mode = self.draw_citation(data)
        note = data.draw(st.sampled_from(["", "Figure disputed.", "数字には異論がある。"]))
        attributed_to = data.draw(st.sampled_from(["", "Chinese Nationalist government", "日本軍"]))
        actor, reason = self.draw_author(data), data.draw(MAYBE_REASON)
        kwargs = {
            "subject_id": data.draw(st.sampled_from([subject.id, str(subject.id)])),
            "property_id": prop.id,
            "value": value,
            "citation": citation,
            "attributed_to": attributed_to,
            "note": note,
            "actor": actor,
            "reason": reason,
        }
        retryable = mode != "auto" and data.draw(st.booleans(), label="retryable")
        if retryable:
            kwargs |= {"claim_id": uuid.uuid4(), "event_id": uuid.uuid4()}
        record = commands.register_claim(**kwargs)
        state = ClaimState(
            id=record.pk,
            prop=prop,
            subject_id=subject.id,
            value=value,
            citation=cited,
            note=note,
            attributed_to=attributed_to,
            authors={actor.pk},
            registration=(kwargs, cited) if retryable else None,
        )
        self.recorded(record, state, event_types=["ClaimRegistered"], actor=actor, reason=reason)
        self.check_claim(record, state)
        self.claims.append(state)
        label_example(f"claim: {prop.value_type} value, citation offsets {mode}")

    @rule(data=st.data())
    @_step
    def revise_claim(self, data):
        claim = data.draw(st.sampled_from(self.claims), label="claim")
        value = claim.value
        if data.draw(st.booleans(), label="new value"):
            value = self.draw_value(data, claim.prop)
        cited = claim.citation
        citation = cited.restated()
        if not self.holds(cited) or data.draw(st.booleans(), label="new citation"):
            citation, cited, _ = self.draw_citation(data)
        # A fresh note or attribution, so that the revision always changes something.
        note, attributed_to = claim.note, claim.attributed_to
        if data.draw(st.booleans(), label="fresh note"):
            note = self.fresh(data.draw(st.sampled_from(["Revised after", "再調査", "См."])))
        else:
            attributed_to = self.fresh("Attributed by source")
        actor, reason = self.draw_author(data), data.draw(REASONS)
        revise = functools.partial(
            commands.revise_claim,
            claim_id=claim.id,
            expected_version=claim.version,
            value=value,
            citation=citation,
            attributed_to=attributed_to,
            note=note,
            reason=reason,
            actor=actor,
        )
        if not claim.revisable:
            self.refused(WrongState, revise, what=f"claim revised while {claim.status}")
            return
        record = self.retryable(data, "revise_claim", revise, claim.id)()
        claim.revised(actor)
        claim.value, claim.citation = value, cited
        claim.note, claim.attributed_to = note, attributed_to
        self.recorded(record, claim, event_types=["ClaimRevised"], actor=actor, reason=reason)
        self.check_claim(record, claim)

    # --- review ------------------------------------------------------------------------------

    @rule(data=st.data(), kind=st.sampled_from(["claim", "source", "subject"]))
    @_step
    def review_step(self, data, kind):
        self.review_walk(data, kind, data.draw(st.sampled_from(self.records(kind)), label="record"))

    def review_walk(self, data, kind, state):
        """One to three steps of the review workflow that fit the record's state as it goes, each
        by someone in the role for it (who may still be refused: four eyes, a stale revision, a
        claim citing an unpublished source), which ends the walk."""
        actions = REVIEW_ACTIONS + (CLAIM_ACTIONS if kind == "claim" else [])
        for _ in range(data.draw(st.integers(1, 3), label="steps")):
            fitting = [action for action in NEXT_STEPS[state.status] if action in actions]
            action = data.draw(st.sampled_from(fitting), label="action")
            if action in ("submit", "withdraw"):
                suited = self.authors
            elif action == "comment":
                suited = self.team
            else:
                suited = self.reviewers
            actor = data.draw(st.sampled_from(suited), label="actor")
            if not self.review(data, action, kind, state, actor, reasons=REASONS):
                return

    @rule(data=st.data(), kind=st.sampled_from(["claim", "source", "subject"]))
    @_step
    def review_misstep(self, data, kind):
        """Any step of the review workflow by anyone: mostly refused for the role or the state."""
        state = data.draw(st.sampled_from(self.records(kind)), label="record")
        actions = REVIEW_ACTIONS + (CLAIM_ACTIONS if kind == "claim" else [])
        action = data.draw(st.sampled_from(actions), label="action")
        anyone = [*self.team, self.people["visitor"]]
        actor = data.draw(st.sampled_from(anyone), label="actor")
        self.review(data, action, kind, state, actor, reasons=MAYBE_REASON)

    def review(
        self, data, action: str, kind: str, state, actor, *, reasons=MAYBE_REASON, stale=True
    ) -> bool:
        """Run one review command, predicting whether and how the workflow refuses it. Returns
        whether it was accepted."""
        is_author = actor in self.authors
        is_reviewer = actor in self.reviewers
        target = {"record_type": kind, "record_id": state.id, "actor": actor}
        reason = ""
        stamped = ""  # review steps leave comments and reasons out of history rows
        refusal = None
        if action in ("submit", "withdraw"):
            command = (
                commands.submit_for_review if action == "submit" else commands.withdraw_submission
            )
            call = functools.partial(command, **target)
            before, after = (
                (Status.DRAFT, Status.IN_REVIEW)
                if action == "submit"
                else (Status.IN_REVIEW, Status.DRAFT)
            )
            if not is_author:
                refusal = (RoleRequired, None)
            elif state.status != before:
                refusal = (WrongState, None)
            event_types = ["SubmittedForReview" if action == "submit" else "SubmissionWithdrawn"]
        elif action in DECISIONS:
            revision = state.revision
            if stale and data.draw(st.integers(0, 5), label="stale") == 5:
                revision += data.draw(st.sampled_from([-1, 1]), label="seen revision")
            comment = data.draw(MAYBE_REASON if action == "approve" else reasons, label="comment")
            call = functools.partial(
                DECISIONS[action], revision=revision, comment=comment, **target
            )
            if not is_reviewer:
                refusal = (RoleRequired, None)
            elif state.status != Status.IN_REVIEW:
                refusal = (WrongState, None)
            elif revision != state.revision:
                refusal = (StaleRevision, None)
            elif actor.pk in state.authors:
                refusal = (FourEyes, None)
            elif action != "approve" and not comment.strip():
                refusal = (ValidationError, "comment")
            elif action == "approve" and kind == "claim" and not self.cites_published(state):
                refusal = (WrongState, None)
            event_type, after = DECIDED[action]
            event_types = [event_type]
            if action == "approve" and comment.strip():
                event_types = ["CommentAdded", event_type]
        elif action == "comment":
            text = data.draw(
                st.one_of(REASONS, st.just(" \n")) if reasons is MAYBE_REASON else REASONS
            )
            call = functools.partial(commands.add_review_comment, text=text, **target)
            if actor not in self.team:
                refusal = (RoleRequired, None)
            elif not text.strip():
                refusal = (ValidationError, "text")
            event_types, after = ["CommentAdded"], state.status
        else:  # retract or rank a claim
            reason = stamped = data.draw(reasons, label="reason")
            target = {"claim_id": state.id, "actor": actor, "reason": reason}
            rank = data.draw(st.sampled_from(list(Rank.values)), label="rank")
            if action == "retract":
                call = functools.partial(commands.retract_claim, **target)
            else:
                call = functools.partial(commands.rank_claim, rank=rank, **target)
            if not is_reviewer:
                refusal = (RoleRequired, None)
            elif state.status == Status.RETRACTED or state.published is None:
                refusal = (WrongState, None)
            elif not reason.strip():
                refusal = (ValidationError, "reason")
            elif action == "rank" and rank == state.rank:
                refusal = (ValidationError, "rank")
            event_types = ["ClaimRetracted" if action == "retract" else "ClaimRanked"]
            after = Status.RETRACTED if action == "retract" else state.status
        if refusal is not None:
            expected, field_name = refusal
            self.refused(expected, call, field_name=field_name, what=f"{action} ({kind})")
            return False
        demoted = []
        if action == "rank" and rank == Rank.PREFERRED:
            demoted = [
                other
                for other in self.claims
                if other.fact == state.fact and other.rank == Rank.PREFERRED
            ]
            event_types = ["ClaimRanked"] * len(demoted) + event_types
        record = self.retryable(data, action, call, state.id)()
        for other in demoted:
            other.version += 1
            other.rank = Rank.NORMAL
        state.version += len(event_types) - len(demoted)
        state.status = after
        if action == "approve":
            state.published, state.authors = state.revision, set()
        if action == "rank":
            state.rank = rank
        self.recorded(
            record,
            state,
            event_types=event_types,
            actor=actor,
            reason=reason,
            stamped=stamped,
        )
        return True

    def cites_published(self, claim: ClaimState) -> bool:
        cited = [
            self.find("source", claim.citation.source_id),
            self.find("subject", claim.subject_id),
        ]
        if claim.prop.value_type == "subject":
            cited.append(self.find("subject", claim.value["subject_id"]))
        return all(record.published is not None for record in cited)

    # --- stale versions, retries and refusals --------------------------------------------------

    @precondition(lambda self: any(map(self.revisable_for_revision, self.claims)))
    @rule(data=st.data())
    @_step
    def revisions_from_a_stale_version(self, data):
        """For a claim, and a source and a subject where one can be revised: a revision made
        against a version that is no longer the record's is refused with ConcurrencyError and
        stores nothing. In a lost race the other archivist's revision, made against the same
        version first, is the one kept."""
        for kind, event_type, attempt in (
            ("claim", "ClaimRevised", self.renote),
            ("source", "SourceRevised", self.retitle),
            ("subject", "SubjectRevised", self.add_alias),
        ):
            candidates = [s for s in self.records(kind) if self.revisable_for_revision(s)]
            if not candidates:
                continue
            state = data.draw(st.sampled_from(candidates), label=f"{kind}")
            winner, loser = data.draw(st.permutations(self.authors[:2]), label="archivists")
            reason = data.draw(REASONS)
            read = state.version
            if data.draw(st.booleans(), label="lost race"):
                call, accepted = attempt(state, read, winner, reason)
                record = call()
                state.revised(winner)
                accepted()
                self.recorded(record, state, event_types=[event_type], actor=winner, reason=reason)
                stale = read
            else:
                stale = data.draw(st.sampled_from([read - 1, read + 1, 0]), label="stale version")
            call, _ = attempt(state, stale, loser, reason)
            what = f"{kind} revised from a stale version"
            refusal = self.refused(ConcurrencyError, call, what=what)
            assert (refusal.expected, refusal.actual) == (stale, state.version)

    def revisable_for_revision(self, state) -> bool:
        return state.revisable and (not isinstance(state, ClaimState) or self.holds(state.citation))

    def retitle(self, state: SourceState, version: int, actor, reason: str):
        fields = {**state.fields, "title": self.fresh("Retitled")}
        call = functools.partial(
            commands.revise_source,
            source_id=state.id,
            expected_version=version,
            reason=reason,
            actor=actor,
            **fields,
        )
        return call, lambda: setattr(state, "fields", fields)

    def add_alias(self, state: SubjectState, version: int, actor, reason: str):
        names = [*state.names, {"name": self.fresh("別名"), "language": "ja", "primary": False}]
        call = functools.partial(
            commands.revise_subject,
            subject_id=state.id,
            expected_version=version,
            kind=state.kind,
            names=names,
            reason=reason,
            actor=actor,
        )
        return call, lambda: setattr(state, "names", names)

    def renote(self, state: ClaimState, version: int, actor, reason: str):
        note = self.fresh("再調査")
        call = functools.partial(
            commands.revise_claim,
            claim_id=state.id,
            expected_version=version,
            value=state.value,
            citation=state.citation.restated(),
            attributed_to=state.attributed_to,
            note=note,
            reason=reason,
            actor=actor,
        )
        return call, lambda: setattr(state, "note", note)

    @rule(data=st.data())
    @_step
    def command_that_stores_nothing(self, data):
        """A command refused for invalid input, a missing role or a taken id, or a command
        retried with its event id and acknowledged: either way nothing at all is stored."""
        retries = list(self.retries)
        for claim in self.claims:
            if claim.registration and self.holds(claim.registration[1]):
                register = functools.partial(commands.register_claim, **claim.registration[0])
                retries.append(("register_claim", register, claim.id))
        if retries and data.draw(st.integers(0, 3), label="retry") == 3:
            what, command, record_id = data.draw(st.sampled_from(retries), label="retried")
            events, before = StoredEvent.objects.count(), self.rows()
            assert command().pk == record_id
            assert StoredEvent.objects.count() == events == self.events
            self.assert_nothing_changed(before, f"a retried {what} was acknowledged")
            label_example(f"acknowledged a retried {what}")
            return
        candidates = self.refusals(data)
        # Hypothesis favours the first of a list; turning it by a count kept in this example
        # spreads the refusals over every kind while keeping each example reproducible.
        names = sorted(candidates)
        what = names[(data.draw(st.integers(0, len(names) - 1)) + self.serial) % len(names)]
        expected, field_name, call = candidates[what]
        self.refused(expected, call, field_name=field_name, what=what)

    def refusals(self, data) -> dict:
        actor = self.draw_author(data)
        reviewer, visitor = self.people["reviewer"], self.people["visitor"]
        source = data.draw(st.sampled_from(self.sources), label="source")
        subject = data.draw(st.sampled_from(self.subjects), label="subject")
        prop = data.draw(st.sampled_from(self.properties), label="property")
        value = self.draw_value(data, prop)
        citation, _, _ = self.draw_citation(data)
        good_source, _ = self.draw_source_fields(data)

        def claim(value=value, citation=citation, actor=actor, **overrides):
            kwargs = {"subject_id": subject.id, "property_id": prop.id, "actor": actor}
            kwargs |= {"value": value, "citation": citation} | overrides
            return functools.partial(commands.register_claim, **kwargs)

        def with_value(**changes):
            return claim(value={**value, **changes})

        def with_citation(**changes):
            return claim(citation={**citation, **changes})

        def subject_named(names, kind="event", **overrides):
            kwargs = {"kind": kind, "names": names, "actor": actor} | overrides
            return functools.partial(commands.register_subject, **kwargs)

        def source_with(**changes):
            return functools.partial(
                commands.register_source, **{"actor": actor, **good_source, **changes}
            )

        def define(**fields):
            key = self.fresh("k").replace(" ", "-")
            return functools.partial(
                commands.define_property, **({"key": key, "label": "x", "actor": actor} | fields)
            )

        invalid = ValidationError
        refusals = {
            "source without a title": (invalid, "title", source_with(title=" \u3000 ")),
            "source with a NUL in its title": (invalid, "title", source_with(title="a\x00b")),
            "source with an ftp url": (invalid, "url", source_with(url="ftp://example.org/x")),
            "source accessed on no date": (invalid, "accessed", source_with(accessed="1942-13-01")),
            "source registered by nobody": (invalid, "actor", source_with(actor=None)),
            "source registered by a retired account": (
                invalid,
                "actor",
                source_with(actor=self.people["retired"]),
            ),
            "source registered by a visitor": (RoleRequired, None, source_with(actor=visitor)),
            "source registered under a taken id": (
                ConcurrencyError,
                None,
                source_with(source_id=source.id),
            ),
            "subject without names": (invalid, "names", subject_named([])),
            "subject of an unknown kind": (invalid, "kind", subject_named(["x"], kind="battle")),
            "subject with a blank name": (invalid, "names.0.name", subject_named(["\u3000"])),
            "subject with two primary names": (
                invalid,
                "names",
                subject_named(
                    [{"name": "浙贛作戦", "primary": True}, {"name": "A", "primary": True}]
                ),
            ),
            "subject registered by a reviewer": (
                RoleRequired,
                None,
                subject_named(["浙贛作戦"], actor=reviewer),
            ),
            "subject registered under a taken id": (
                ConcurrencyError,
                None,
                subject_named(["浙贛作戦"], subject_id=subject.id),
            ),
            "property with a taken key": (invalid, "key", define(key=prop.key, value_type="text")),
            "property key that is no slug": (
                invalid,
                "key",
                define(key="Civilian Deaths", value_type="text"),
            ),
            "date property with a unit": (invalid, "unit", define(value_type="date", unit="days")),
            "text property counting": (invalid, "count", define(value_type="text", count=True)),
            "property of an unknown type": (invalid, "value_type", define(value_type="colour")),
            "property defined by a visitor": (
                RoleRequired,
                None,
                define(value_type="text", actor=visitor),
            ),
            "property defined under a taken id": (
                ConcurrencyError,
                None,
                define(value_type="text", property_id=prop.id),
            ),
            "claim about an unknown subject": (
                invalid,
                "subject_id",
                claim(subject_id=uuid.uuid4()),
            ),
            "claim citing an unknown source": (
                invalid,
                "citation.source_id",
                with_citation(source_id=str(uuid.uuid4())),
            ),
            "claim without a citation": (invalid, "citation", claim(citation={})),
            "claim with a blank quote": (invalid, "citation.quote", with_citation(quote=" \n ")),
            "claim by nobody": (invalid, "actor", claim(actor=None)),
            "claim registered by a reviewer": (RoleRequired, None, claim(actor=reviewer)),
            "claim with a value of the wrong type": (
                invalid,
                "value.type",
                with_value(type="date" if prop.value_type == "text" else "text"),
            ),
            "claim with a foreign value field": (invalid, "value", with_value(colour="red")),
            "claim without original wording": (invalid, "value.original", with_value(original="")),
            "comment on a record of no known type": (
                invalid,
                "record_type",
                functools.partial(
                    commands.add_review_comment,
                    record_type="fact",
                    record_id=subject.id,
                    text="?",
                    actor=actor,
                ),
            ),
        }
        if source.text:
            absent = f"⟦{uuid.uuid4().hex}⟧"
            refusals["claim quoting words not in the text"] = (
                invalid,
                "citation.quote",
                claim(citation={"source_id": source.id, "quote": absent}),
            )
            repeated = next(
                (char for char in source.text if char.strip() and source.text.count(char) > 1),
                None,
            )
            if repeated is not None:
                refusals["claim quoting an ambiguous passage"] = (
                    invalid,
                    "citation.start",
                    claim(citation={"source_id": source.id, "quote": repeated}),
                )
            first = source.text.strip()[0]
            start = source.text.index(first)
            if source.text[start + 1 : start + 2] != first:
                refusals["claim with offsets off by one"] = (
                    invalid,
                    "citation.start",
                    claim(citation={"source_id": source.id, "quote": first, "start": start + 1}),
                )
        else:
            refusals["claim with offsets into a text not held"] = (
                invalid,
                "citation.start",
                claim(citation={"source_id": source.id, "quote": "250,000", "start": 0}),
            )
        if prop.value_type == "quantity":
            refusals["quantity below its lower bound"] = (
                invalid,
                "value.lower",
                with_value(best=5, lower=10, upper=20),
            )
            refusals["quantity in another unit"] = (invalid, "value.unit", with_value(unit="li"))
            refusals["quantity that is no number"] = (
                invalid,
                "value.best",
                with_value(best="many", lower=None, upper=None),
            )
            if prop.count:
                refusals["count with a fraction"] = (
                    invalid,
                    "value.best",
                    with_value(best="2.5", lower=None, upper=None),
                )
                refusals["negative count"] = (
                    invalid,
                    "value.best",
                    with_value(best=-3, lower=None, upper=None),
                )
        elif prop.value_type == "date":
            for what, changes, field_name in (
                ("date with an invalid EDTF", {"edtf": "1942-13"}, "value.edtf"),
                ("date with an open interval", {"edtf": "1942/.."}, "value.edtf"),
                ("part of a year", {"edtf": "1942", "part": "early"}, "value.part"),
                ("part of a season", {"edtf": "1942-21", "part": "late"}, "value.part"),
                ("part that is no part", {"edtf": "1942-09", "part": "sometime"}, "value.part"),
            ):
                refusals[what] = (invalid, field_name, with_value(**changes))
        elif prop.value_type == "subject":
            refusals["value naming an unknown subject"] = (
                invalid,
                "value.subject_id",
                with_value(subject_id=str(uuid.uuid4())),
            )
        refusals |= self.refused_revisions(data, actor)
        return refusals

    def refused_revisions(self, data, actor) -> dict:
        """Revisions refused for their input. The workflow is checked before the input, so
        these are drawn from records in a state that can be revised."""
        refusals = {
            "unknown source revised": (
                ValidationError,
                "source_id",
                functools.partial(
                    commands.revise_source,
                    source_id=uuid.uuid4(),
                    expected_version=1,
                    title="t",
                    reason="r",
                    actor=actor,
                ),
            ),
        }
        sources = [source for source in self.sources if source.revisable]
        if sources:
            source = data.draw(st.sampled_from(sources), label="revised source")

            def revise_source(**changes):
                fields = {"reason": "r", "actor": actor, **source.fields, **changes}
                return functools.partial(
                    commands.revise_source,
                    source_id=source.id,
                    expected_version=source.version,
                    **fields,
                )

            refusals |= {
                "source revised without a reason": (
                    ValidationError,
                    "reason",
                    revise_source(title=self.fresh("Retitled"), reason=" "),
                ),
                "source revised to the same": (ValidationError, "__all__", revise_source()),
                "source revised by a reviewer": (
                    RoleRequired,
                    None,
                    revise_source(title=self.fresh("Retitled"), actor=self.people["reviewer"]),
                ),
            }
            shifted = "⟦inserted⟧" + source.text
            if self.citations_broken_by(source, shifted):
                refusals["source text that moves quoted passages"] = (
                    ValidationError,
                    "full_text",
                    revise_source(full_text=shifted),
                )
        subjects = [subject for subject in self.subjects if subject.revisable]
        if subjects:
            subject = data.draw(st.sampled_from(subjects), label="revised subject")

            def revise_subject(**changes):
                kwargs = {"kind": subject.kind, "names": subject.names, "reason": "r"} | changes
                return functools.partial(
                    commands.revise_subject,
                    subject_id=subject.id,
                    expected_version=subject.version,
                    **({"actor": actor} | kwargs),
                )

            alias = {"name": self.fresh("別名"), "language": "ja"}
            refusals |= {
                "subject revised without a reason": (
                    ValidationError,
                    "reason",
                    revise_subject(names=[*subject.names, alias], reason=""),
                ),
                "subject revised to the same": (ValidationError, "__all__", revise_subject()),
            }
        claims = [claim for claim in self.claims if self.revisable_for_revision(claim)]
        if claims:
            claim = data.draw(st.sampled_from(claims), label="revised claim")

            def revise_claim(**changes):
                kwargs = {
                    "value": claim.value,
                    "citation": claim.citation.restated(),
                    "note": claim.note,
                    "attributed_to": claim.attributed_to,
                    "reason": "r",
                    "actor": actor,
                } | changes
                return functools.partial(
                    commands.revise_claim,
                    claim_id=claim.id,
                    expected_version=claim.version,
                    **kwargs,
                )

            note = self.fresh("note")
            refusals |= {
                "claim revised without a reason": (
                    ValidationError,
                    "reason",
                    revise_claim(note=note, reason="\u3000"),
                ),
                "claim revised to the same": (ValidationError, "__all__", revise_claim()),
                "claim revised by nobody": (ValidationError, "actor", revise_claim(actor=None)),
                "claim revised by a visitor": (
                    RoleRequired,
                    None,
                    revise_claim(note=note, actor=self.people["visitor"]),
                ),
                "claim registered under a taken id": (
                    ConcurrencyError,
                    None,
                    functools.partial(
                        commands.register_claim,
                        claim_id=claim.id,
                        subject_id=claim.subject_id,
                        property_id=claim.prop.id,
                        value=claim.value,
                        citation=claim.citation.restated(),
                        actor=actor,
                    ),
                ),
            }
        return refusals

    @precondition(lambda self: self.events >= self.rebuilt_at + 10)
    @rule()
    @_step
    def rebuild_midway(self):
        """Rebuilding in the middle changes nothing, and commands carry on from the rebuilt rows."""
        self.assert_replay_gives_the_live_state()
        self.rebuilt_at = self.events
        label_example("rebuilt midway")


@pytest.fixture
def people(archivist, other_archivist, reviewer):
    return {
        "archivist": archivist,
        "archivist2": other_archivist,
        "reviewer": reviewer,
        # Both roles: may author and review, though never decide on a revision they wrote.
        "editor": make_user("editor", ADMINISTRATOR),
        "visitor": make_user("visitor"),  # no role at all
        "retired": make_user("retired", ARCHIVIST, is_active=False),
    }


def test_replaying_any_sequence_of_commands_gives_the_same_archive(people):
    run_state_machine_as_test(
        lambda: ArchiveMachine(people),
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    # Every example was rolled back: the test's own database is as the fixtures left it.
    assert StoredEvent.objects.count() == 0


# --- history, by hand --------------------------------------------------------------------------


def _history_rows(claim: Claim) -> list[dict]:
    """claim.history.all(), oldest first, as comparable rows (surrogate history ids aside)."""
    rows = claim.history.all().order_by("history_date", "history_id").values()
    return [{key: value for key, value in row.items() if key != "history_id"} for row in rows]


def test_rebuild_reproduces_a_claims_history_exactly(archivist, other_archivist, reviewer):
    source = factories.source(archivist)
    subject = commands.register_subject(
        actor=archivist,
        kind="event",
        names=[
            {"name": "Zhejiang-Jiangxi Campaign", "language": "en"},
            {"name": "浙贛作戦", "language": "ja"},
        ],
    )
    prop = factories.quantity_property(archivist)
    claim = factories.deaths_claim(
        archivist, subject_record=subject, prop=prop, src=source, reason="First reading"
    )
    commands.revise_claim(
        claim_id=claim.pk,
        expected_version=1,
        value={"original": "around 200,000", "best": 200000, "approximate": True},
        citation={"source_id": source.pk, "locator": "p. 2", "quote": "around 200,000 died"},
        attributed_to="Others",
        reason="A second estimate",
        actor=other_archivist,
    )
    commands.revise_claim(
        claim_id=claim.pk,
        expected_version=2,
        value={"original": "200,000–250,000", "lower": 200000, "upper": 250000},
        citation={"source_id": source.pk, "locator": "p. 2", "quote": "around 200,000 died"},
        attributed_to="Others",
        note="範囲で記録する。",
        reason="範囲として記録",
        actor=archivist,
    )
    events = read_stream(claim.pk)
    before = _history_rows(claim)

    assert rebuild() == StoredEvent.objects.count()

    after = _history_rows(claim)
    assert after == before
    assert [row["history_user_id"] for row in after] == [
        archivist.pk,
        other_archivist.pk,
        archivist.pk,
    ]
    assert [row["history_date"] for row in after] == [event.recorded_at for event in events]
    assert [row["history_change_reason"] for row in after] == [
        "ClaimRegistered: First reading",
        "ClaimRevised: A second estimate",
        "ClaimRevised: 範囲として記録",
    ]
    assert [row["history_type"] for row in after] == ["+", "~", "~"]
    assert [row["version"] for row in after] == [1, 2, 3]
    assert [row["revision"] for row in after] == [1, 2, 3]
    assert [row["quantity_best"] for row in after] == [Decimal(250000), Decimal(200000), None]
    assert [row["quantity_upper"] for row in after] == [
        Decimal(n) for n in (250000, 200000, 250000)
    ]
    assert [row["quote"] for row in after] == [
        "Chinese estimates put the death toll at 250,000 civilians.",
        "around 200,000 died",
        "around 200,000 died",
    ]
    assert [row["note"] for row in after] == ["", "", "範囲で記録する。"]
    assert [row["last_position"] for row in after] == [event.position for event in events]

    # The same holds through the model's history manager, and for the live row.
    rebuilt = Claim.objects.get(pk=claim.pk)
    assert [h.history_user for h in rebuilt.history.order_by("history_date")] == [
        archivist,
        other_archivist,
        archivist,
    ]
    assert rebuilt.updated_at == events[-1].recorded_at
    assert rebuilt.registered_at == events[0].recorded_at and rebuilt.registered_by == archivist
    assert sorted(rebuilt.revision_authors) == sorted([archivist.pk, other_archivist.pk])
    assert check_replay().ok


def test_rebuild_reproduces_the_published_history(archivist, reviewer):
    """Review events stamp the working record's history with the event type alone (comments and
    decisions stay with the team), and approvals write the published record's history."""
    world = factories.published_world(archivist, reviewer)
    claim = factories.deaths_claim(
        archivist, subject_record=world["subject"], prop=world["deaths"], src=world["source"]
    )
    claim = factories.publish(claim, "claim", author=archivist, reviewer=reviewer)
    commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={"original": "200,000", "best": 200000},
        citation={"source_id": world["source"].pk, "quote": "Others say around 200,000 died."},
        reason="Recount",
        actor=archivist,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    commands.approve_revision(
        record_type="claim", record_id=claim.pk, revision=2, comment="Agreed.", actor=reviewer
    )
    commands.rank_claim(claim_id=claim.pk, rank="preferred", reason="Official", actor=reviewer)
    working, published = (
        _history_rows(claim),
        _history_rows(PublishedClaim.objects.get(pk=claim.pk)),
    )

    assert rebuild() == StoredEvent.objects.count()

    assert _history_rows(claim) == working
    assert _history_rows(PublishedClaim.objects.get(pk=claim.pk)) == published
    assert [row["history_change_reason"] for row in working] == [
        "ClaimRegistered",
        "SubmittedForReview",
        "RevisionApproved",
        "ClaimRevised: Recount",
        "SubmittedForReview",
        "CommentAdded",
        "RevisionApproved",
        "ClaimRanked: Official",
    ]
    assert [(row["revision"], row["quantity_best"]) for row in published] == [
        (1, Decimal(250000)),
        (2, Decimal(200000)),
        (2, Decimal(200000)),
    ]
    assert [row["history_user_id"] for row in published] == [reviewer.pk] * 3
    assert check_replay().ok


# --- drift --------------------------------------------------------------------------------------


@pytest.fixture
def seeded_claims(archivist, other_archivist, reviewer):
    world = factories.published_world(archivist, reviewer)
    source, subject, deaths = world["source"], world["subject"], world["deaths"]
    end = factories.date_property(archivist)
    first = factories.deaths_claim(archivist, subject_record=subject, prop=deaths, src=source)
    first = factories.publish(first, "claim", author=archivist, reviewer=reviewer)
    second = factories.deaths_claim(
        other_archivist,
        subject_record=subject,
        prop=deaths,
        src=source,
        best=200000,
        quote="Others say around 200,000 died.",
    )
    third = commands.register_claim(
        actor=archivist,
        subject_id=subject.pk,
        property_id=end.pk,
        value={"original": "September 1942", "edtf": "1942-09", "part": "late"},
        citation={"source_id": source.pk, "quote": "浙贛作戦"},
    )
    commands.revise_claim(
        claim_id=second.pk,
        expected_version=1,
        value={"original": "200,000", "best": 200000},
        citation={"source_id": source.pk, "quote": "Others say around 200,000 died."},
        note="Recounted.",
        reason="Recount",
        actor=archivist,
    )
    return [first, second, third]


def _verify_archive() -> str:
    out = io.StringIO()
    call_command("verify_archive", "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _tamper(where: str, claim) -> None:
    """Exactly what must never happen: a projection row written behind the projector's back."""
    if where == "read model":
        Claim.objects.filter(pk=claim.pk).update(note="tampered")
    elif where == "history":
        Claim.history.filter(id=claim.pk, version=1).update(history_change_reason="tampered")
    else:
        PublishedClaim.objects.filter(pk=claim.pk).update(quantity_best=1)


@pytest.mark.parametrize(
    ("where", "target"),
    [("read model", 1), ("history", 1), ("published record", 0)],
)
def test_check_replay_detects_a_row_changed_outside_the_projector(seeded_claims, where, target):
    assert check_replay().ok
    assert "gives exactly the live state" in _verify_archive()
    claim = seeded_claims[target]

    _tamper(where, claim)

    report = check_replay()
    assert not report.ok
    assert report.events == StoredEvent.objects.count()
    assert any(str(claim.pk) in difference for difference in report.differences)
    for other in seeded_claims:
        if other.pk != claim.pk:
            assert not any(str(other.pk) in difference for difference in report.differences)
    with pytest.raises(CommandError, match=str(claim.pk)):
        _verify_archive()

    # check_replay rolled its rebuild back: the drift is there until a real rebuild.
    assert not check_replay().ok
    rebuild()
    assert check_replay().ok
    assert "gives exactly the live state" in _verify_archive()
    assert Claim.objects.get(pk=seeded_claims[1].pk).note == "Recounted."


def test_check_replay_names_a_changed_row_on_both_sides(seeded_claims):
    claim = Claim.objects.get(pk=seeded_claims[1].pk)
    Claim.objects.filter(pk=claim.pk).update(note="tampered")

    differences = check_replay().differences

    assert differences == [
        f"records.Claim: live row id={claim.pk}, last event at position {claim.last_position} "
        "is not what a replay gives",
        f"records.Claim: a replay gives row id={claim.pk}, last event at position "
        f"{claim.last_position} that is not live",
    ]


def test_check_replay_names_the_earliest_rows_first_when_more_differ_than_it_lists(
    seeded_claims, reviewer
):
    """Every claim changed behind the projector's back, and room to name two rows: the two are
    the live and replayed faces of the claim whose last event is earliest, every time."""
    # The claim that sorts first by id gets the latest event, so that the earliest is another.
    first_by_id = min(Claim.objects.all(), key=lambda claim: claim.pk.hex)
    commands.add_review_comment(
        record_type="claim", record_id=first_by_id.pk, text="Seen.", actor=reviewer
    )
    Claim.objects.update(note="tampered")
    earliest = Claim.objects.order_by("last_position").first()
    assert earliest.pk != first_by_id.pk

    differences = check_replay(limit=2).differences

    assert differences == [
        f"records.Claim: live row id={earliest.pk}, last event at position "
        f"{earliest.last_position} is not what a replay gives",
        f"records.Claim: a replay gives row id={earliest.pk}, last event at position "
        f"{earliest.last_position} that is not live",
    ]


def test_check_replay_counts_rows_a_history_holds_twice_or_lacks(seeded_claims):
    """History rows are a multiset: a row written twice behind the projector's back, or one
    removed, is a difference, though every row's values are ones a replay gives."""
    claim = seeded_claims[1]
    history = Claim.history.model
    doubled = history.objects.filter(id=claim.pk).order_by("history_date").first()
    doubled.history_id = None
    doubled.save(force_insert=True)

    report = check_replay()

    label = f"id={claim.pk}, last event at position {doubled.last_position}, history + at "
    named = [d for d in report.differences if label in d]
    assert [d.split(label)[0] for d in named] == [
        "records.HistoricalClaim: live row ",
        "records.HistoricalClaim: a replay gives row ",
    ]
    assert len(report.differences) == 2

    history.objects.filter(id=claim.pk)._raw_delete(history.objects.db)
    report = check_replay()
    assert not report.ok
    assert all("a replay gives row" in d and str(claim.pk) in d for d in report.differences)


def test_replay_reproduces_the_review_workflow_and_published_faces(archivist, reviewer):
    """Review events, published faces, ranks, retraction and comments replay exactly too."""
    from records.seeding import load_seeds, seed_id

    load_seeds(archivist=archivist, reviewer=reviewer)
    claim_id = seed_id("claim", "raid-date")
    commands.rank_claim(claim_id=claim_id, rank="preferred", reason="Exact", actor=reviewer)
    commands.retract_claim(
        claim_id=seed_id("claim", "airmen-shot-three"), reason="Duplicate", actor=reviewer
    )
    claim = Claim.objects.get(pk=seed_id("claim", "airmen-captured-eight"))
    claim = commands.revise_claim(
        claim_id=claim.pk,
        expected_version=claim.version,
        value={"original": "eight", "best": 8, "approximate": True},
        citation={"source_id": claim.source_id, "quote": claim.quote},
        reason="Rounded",
        actor=archivist,
    )
    commands.submit_for_review(record_type="claim", record_id=claim.pk, actor=archivist)
    commands.request_changes(
        record_type="claim", record_id=claim.pk, revision=2, comment="Why?", actor=reviewer
    )
    report = check_replay()
    assert report.ok, report.differences
    assert report.events == StoredEvent.objects.count()


@pytest.mark.parametrize("page_size", [1, 5, PAGE_SIZE])
def test_a_replay_in_pages_of_any_size_gives_the_live_state(archivist, reviewer, page_size):
    """Seeds, a rank, a retraction and a revision under review: with small pages most records
    are read back from an earlier page, changed and written again."""
    from records.seeding import load_seeds, seed_id

    load_seeds(archivist=archivist, reviewer=reviewer)
    commands.rank_claim(
        claim_id=seed_id("claim", "raid-date"), rank="preferred", reason="Exact", actor=reviewer
    )
    commands.retract_claim(
        claim_id=seed_id("claim", "airmen-shot-three"), reason="Duplicate", actor=reviewer
    )
    live = snapshot()
    assert rebuild(page_size=page_size) == StoredEvent.objects.count()
    replayed = snapshot()
    assert replayed == live, describe_differences(live, replayed)


def test_a_rebuild_that_fails_stops_reading_the_log_and_changes_nothing(seeded_claims, monkeypatch):
    """The log is read a page ahead in a thread on PostgreSQL (records.read_ahead); a failure
    part way must stop that thread before the rollback uses the connection."""
    from records.batch_projection import BatchProjector, ProjectionFailed

    assert StoredEvent.objects.count() > 6
    live = {table: table.objects.count() for table in projection_tables()}
    handled = []
    handle = BatchProjector.handle

    reading_at_failure = []

    def reader_running() -> bool:
        return any(thread.name == "log-read-ahead" for thread in threading.enumerate())

    def fail_on_the_third_event(self, event, stored):
        handled.append(stored.position)
        if len(handled) == 3:
            reading_at_failure.append(reader_running())
            raise RuntimeError("a projection failed")
        return handle(self, event, stored)

    monkeypatch.setattr(BatchProjector, "handle", fail_on_the_third_event)

    reading_at_rollback = []
    roll_back = connection.savepoint_rollback

    def note_the_reader_then_roll_back(savepoint):
        reading_at_rollback.append(reader_running())
        return roll_back(savepoint)

    monkeypatch.setattr(connection, "savepoint_rollback", note_the_reader_then_roll_back)

    with pytest.raises(ProjectionFailed) as failed:
        # One event a page, so that the reader is still pages ahead when the projection fails.
        rebuild(page_size=1)

    # The failure names the event and its cause.
    third = StoredEvent.objects.order_by("position").values_list("position", "event_type")[2]
    assert str(failed.value) == (
        f"the event at position {third[0]}: {third[1]} could not be projected: RuntimeError: "
        "a projection failed"
    )
    assert isinstance(failed.value.__cause__, RuntimeError)

    # On PostgreSQL the reader was pages ahead when the projection failed, and had stopped by
    # the time anything was rolled back. SQLite reads without a thread.
    assert reading_at_failure == [connection.vendor == "postgresql"]
    assert reading_at_rollback and not any(reading_at_rollback)
    assert {table: table.objects.count() for table in projection_tables()} == live
    monkeypatch.setattr(BatchProjector, "handle", handle)
    assert check_replay().ok


def test_a_fault_of_the_database_during_a_replay_is_raised_as_it_is(seeded_claims, monkeypatch):
    """A lost connection is no event's fault: it is not reported as one."""
    from django.db import OperationalError

    from records.batch_projection import BatchProjector

    def lose_the_connection(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(BatchProjector, "flush", lose_the_connection)
    with pytest.raises(OperationalError, match="server closed the connection"):
        rebuild()


def _a_revision_of_a_claim_never_registered(stream_id):
    from records import events as ev

    forged = ev.ClaimRevised(
        claim_id=str(stream_id), value={}, citation={}, attributed_to="", note=""
    )
    return forged, f"ClaimRevised could not be projected: DoesNotExist: Claim {stream_id} is not"


def _a_comment_on_a_kind_of_record_there_is_not(stream_id):
    from records import events as ev

    forged = ev.CommentAdded(record_type="account", record_id=str(stream_id), revision=1, text="")
    # Found while the page's records are gathered, before any is read: still this event's.
    return forged, "CommentAdded could not be projected: KeyError: 'account'"


@pytest.mark.parametrize(
    "forge", [_a_revision_of_a_claim_never_registered, _a_comment_on_a_kind_of_record_there_is_not]
)
def test_a_log_that_cannot_be_replayed_is_named_by_rebuild_and_verify(
    seeded_claims, archivist, forge
):
    """An event appended past the commands keeps the chain intact and cannot be projected.
    Both commands name it and its cause, exit non-zero, and leave the read models as they
    were."""
    from records.event_store import NO_STREAM, append

    stream_id = uuid.uuid4()
    event, cause = forge(stream_id)
    forged = append(
        stream_id=stream_id, expected_version=NO_STREAM, events=[event], actor=archivist
    ).events[0]
    live = {table: table.objects.count() for table in projection_tables()}
    named = f"the event at position {forged.position}: {cause}"

    with pytest.raises(CommandError) as rebuilt:
        call_command("rebuild_projections", "--no-progress")
    assert str(rebuilt.value).startswith(
        f"Nothing was rebuilt (the read models are as they were): {named}"
    )
    assert {table: table.objects.count() for table in projection_tables()} == live

    with pytest.raises(CommandError) as verified:
        call_command("verify_archive", "--no-progress", stdout=io.StringIO())
    assert str(verified.value).startswith(f"A replay of the log fails: {named}")
    assert {table: table.objects.count() for table in projection_tables()} == live


# --- new records made without Django's constructor -----------------------------------------


def _attributes(record) -> dict:
    attributes = dict(vars(record))
    state = attributes.pop("_state")
    return {**attributes, "_state": (state.adding, state.db, state.fields_cache)}


@pytest.mark.parametrize("model", PROJECTION_MODELS, ids=lambda model: model.__name__)
def test_the_batch_projector_makes_new_records_as_the_constructor_does(model):
    """BatchProjector builds a new record without Django's constructor (an import makes one
    for every event): the same attributes, defaults included, and a callable default (a list of
    revision authors) is a new object in every record, never shared."""
    from django.db.models import signals

    key = model._meta.pk
    values = {key.attname: uuid.uuid4() if key.get_internal_type() == "UUIDField" else 7}
    if model is Claim:
        values.update(fact_id=uuid.uuid4(), subject_id=uuid.uuid4(), property_id=uuid.uuid4())
    projector = BatchProjector()
    made = projector._new_record(model, **values)
    assert type(made) is model
    assert _attributes(made) == _attributes(model(**values))
    assert made.pk == values[key.attname] and made._state.adding
    if hasattr(model, "revision_authors"):
        assert made.revision_authors == []
        assert made.revision_authors is not projector._new_record(model).revision_authors
    # What the constructor would also do and the maker does not: let listeners see the record.
    assert not signals.pre_init.has_listeners(model)
    assert not signals.post_init.has_listeners(model)


def test_the_batch_projector_refuses_a_field_a_record_does_not_have():
    with pytest.raises(TypeError, match=r"Fact has no field \['subject'\]"):
        BatchProjector()._new_record(Fact, id=uuid.uuid4(), subject=object())


def test_a_page_does_not_look_in_the_database_for_the_records_it_registers(archivist, reviewer):
    """A record registered in a page cannot be in the database before it (the log opens a
    stream once): its later events in the page (revisions, review, approval and the published
    face it makes) are projected without reading it. Only facts, which another claim may have
    made already, are looked for. The replay still gives the live state."""
    from django.test.utils import CaptureQueriesContext

    from records.seeding import load_seeds

    load_seeds(archivist=archivist, reviewer=reviewer)
    live = snapshot()
    with CaptureQueriesContext(connection) as captured:
        assert rebuild(page_size=PAGE_SIZE) == StoredEvent.objects.count() < PAGE_SIZE
    registered = (Source, PublishedSource, Subject, PublishedSubject, Claim, PublishedClaim)
    read = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT")
        and any(f'FROM "{model._meta.db_table}"' in query["sql"] for model in registered)
    ]
    assert read == []
    assert snapshot() == live
