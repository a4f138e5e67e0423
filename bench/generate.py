"""Build the synthetic archive through the real commands (records.commands).

Nothing here writes a table directly: every record goes through the same commands, review
workflow and event store as the admin does, so the log it leaves is what a real archive of
that size would hold, and the time it takes is the commands' time.

Needs Django set up (``manage.py shell``, or ``bench.run``). With one writer, the same seed
gives the same commands in the same order, with the same record and event ids; the log differs
only in what the event store adds itself (times, nonces, correlation ids, hashes). With several
writers, each builds its own share of the dossiers, so the commands are the same but their
interleaving in the log is not.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from bench.plan import PROPERTIES, ClaimPlan, Dossier, plan_dossier, property_id
from records import commands
from records.models import Property, StoredEvent
from records.workflow import ARCHIVIST, REVIEWER


@dataclass(frozen=True)
class Team:
    archivist: object
    reviewer: object


@dataclass(frozen=True)
class Built:
    events: int  # in the log after the build
    appended: int
    claims: int
    seconds: float


def team() -> Team:
    """The archivist who writes and the reviewer who decides (four eyes needs two people)."""
    users = get_user_model()
    accounts = []
    for username, role in (("bench-archivist", ARCHIVIST), ("bench-reviewer", REVIEWER)):
        user, created = users.objects.get_or_create(username=username)
        if created:
            user.is_staff = True
            user.set_unusable_password()
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        accounts.append(user)
    return Team(*accounts)


def log_size() -> int:
    # Positions are handed out one after another under the append lock, so on a log that
    # only grows the last position is the count, and reading it is one index lookup.
    last = StoredEvent.objects.order_by("-position").values_list("position", flat=True).first()
    return last or 0


def define_properties(crew: Team) -> dict[str, uuid.UUID]:
    """The shared vocabulary; a property whose key exists already (from the seeds) is reused."""
    ids = {}
    for key, spec in PROPERTIES.items():
        existing = Property.objects.filter(key=key).first()
        if existing is None:
            existing = commands.define_property(
                key=key,
                **spec,
                actor=crew.archivist,
                property_id=property_id(key),
                event_id=uuid.uuid5(property_id(key), "defined"),
            )
        ids[key] = existing.pk
    return ids


def _publish(kind: str, record, crew: Team, comment: str = ""):
    """Submit the record's current revision and approve it; returns the record after."""
    step = f"r{record.revision}"
    commands.submit_for_review(
        record_type=kind,
        record_id=record.pk,
        actor=crew.archivist,
        event_id=uuid.uuid5(record.pk, f"submit-{step}"),
    )
    return commands.approve_revision(
        record_type=kind,
        record_id=record.pk,
        revision=record.revision,
        comment=comment,
        actor=crew.reviewer,
        event_id=uuid.uuid5(record.pk, f"approve-{step}"),
    )


def write_records(dossier: Dossier, crew: Team) -> None:
    """The dossier's sources and subjects, registered and published (claims cite them, and a
    claim is approved only when what it cites is published)."""
    for source in dossier.sources:
        record = commands.register_source(
            **source.fields,
            actor=crew.archivist,
            source_id=source.id,
            event_id=uuid.uuid5(source.id, "register"),
        )
        record = _publish("source", record, crew, "Text checked against the scan.")
        if source.revise:
            record = commands.revise_source(
                source_id=source.id,
                expected_version=record.version,
                **dict(source.fields, archive_reference=f"BENCH/{str(source.id)[:8]}"),
                reason="Add the archive reference.",
                actor=crew.archivist,
                event_id=uuid.uuid5(source.id, "revise"),
            )
            _publish("source", record, crew)
    for subject in dossier.subjects:
        record = commands.register_subject(
            kind=subject.kind,
            names=subject.names,
            actor=crew.archivist,
            subject_id=subject.id,
            event_id=uuid.uuid5(subject.id, "register"),
        )
        record = _publish("subject", record, crew)
        if subject.revise:
            latin = subject.names[0]["name"]
            record = commands.revise_subject(
                subject_id=subject.id,
                expected_version=record.version,
                kind=subject.kind,
                names=[*subject.names, {"name": latin.upper(), "language": "en-x-catalogue"}],
                reason="Add the catalogue heading.",
                actor=crew.archivist,
                event_id=uuid.uuid5(subject.id, "revise"),
            )
            _publish("subject", record, crew)


class _ClaimWriter:
    """One claim's review script, run through the commands: each step's event id is derived
    from the claim and the step, so a rerun of the script is acknowledged, not duplicated."""

    def __init__(self, plan: ClaimPlan, crew: Team, properties: dict[str, uuid.UUID]):
        self.plan, self.crew, self.properties = plan, crew, properties
        self.claim, self.version_used = None, 0

    def _id(self, step: str) -> uuid.UUID:
        return uuid.uuid5(self.plan.id, step)

    def register(self) -> None:
        self.claim = commands.register_claim(
            subject_id=self.plan.subject_id,
            property_id=self.properties[self.plan.property_key],
            **self.plan.versions[0],
            actor=self.crew.archivist,
            claim_id=self.plan.id,
            event_id=self._id("register"),
        )

    def revise(self, reason: str) -> None:
        self.version_used += 1
        self.claim = commands.revise_claim(
            claim_id=self.plan.id,
            expected_version=self.claim.version,
            **self.plan.versions[self.version_used],
            reason=reason,
            actor=self.crew.archivist,
            event_id=self._id(f"revise-{self.version_used}"),
        )

    def submit(self) -> None:
        self.claim = commands.submit_for_review(
            record_type="claim",
            record_id=self.plan.id,
            actor=self.crew.archivist,
            event_id=self._id(f"submit-r{self.claim.revision}"),
        )

    def review(self, command, step: str, **options) -> None:
        self.claim = command(
            record_type="claim",
            record_id=self.plan.id,
            actor=self.crew.reviewer,
            event_id=self._id(f"{step}-r{self.claim.revision}"),
            **options,
        )

    def run(self) -> None:
        plan, reviewer = self.plan, self.crew.reviewer
        self.register()
        for _ in range(plan.draft_revisions):
            self.revise("Correct the transcription.")
        self.submit()
        if plan.review_comment:
            self.review(commands.add_review_comment, "comment", text="Is the locator right?")
        if plan.changes_requested:
            self.review(
                commands.request_changes,
                "changes",
                revision=self.claim.revision,
                comment="Say where the figure is printed.",
            )
            self.revise("Address the reviewer's request.")
            self.submit()
        approve = {"revision": self.claim.revision, "comment": plan.approve_comment}
        self.review(commands.approve_revision, "approve", **approve)
        if plan.rank:
            self.claim = commands.rank_claim(
                claim_id=plan.id,
                rank=plan.rank,
                reason="Best documented." if plan.rank == "preferred" else "Superseded.",
                actor=reviewer,
                event_id=self._id("rank"),
            )
        if plan.retract:
            commands.retract_claim(
                claim_id=plan.id,
                reason="The passage concerns another district.",
                actor=reviewer,
                event_id=self._id("retract"),
            )
        elif plan.late_revision:
            self.revise("Record the cross-check.")
            self.submit()
            self.review(commands.approve_revision, "approve", revision=self.claim.revision)


def write_claims(
    dossier: Dossier, crew: Team, properties, stop: Callable[[], bool] = lambda: False
) -> int:
    """Every fact's claims, fact by fact, until ``stop()``; returns the claims written."""
    written = 0
    for claims in dossier.facts:
        if stop():
            break
        for plan in claims:
            _ClaimWriter(plan, crew, properties).run()
            written += 1
    return written


def build_share(
    seed: int, label: str, writer: int, writers: int, target: int, on_progress=None
) -> int:
    """Dossiers writer, writer + writers, ... of ``label``, until the log holds ``target``
    events; returns the claims written. What one writer process runs."""
    crew = team()
    properties = define_properties(crew)
    claims = 0
    for index in itertools.count(writer, writers):
        if log_size() >= target:
            return claims
        dossier = plan_dossier(seed, label, index)
        write_records(dossier, crew)

        def stop() -> bool:
            size = log_size()
            if on_progress is not None:
                on_progress(size)
            return size >= target

        claims += write_claims(dossier, crew, properties, stop)
    return claims


def generate(scale_events: int, seed: int = 0, writers: int = 1, on_progress=None) -> Built:
    """Grow the archive to about ``scale_events`` events: it stops at the first fact past the
    target, so it overshoots by less than a hundred events (a new dossier's sources and
    subjects, and one fact's claims)."""
    before, started = log_size(), time.monotonic()
    if writers == 1:
        claims = build_share(seed, "archive", 0, 1, scale_events, on_progress)
    else:
        from bench.workers import run_in_processes

        # Define the vocabulary once, before the writers race to do it.
        define_properties(team())
        runs = run_in_processes(
            "bench.generate:build_share",
            [(seed, "archive", writer, writers, scale_events) for writer in range(writers)],
        )
        claims = sum(runs.values)
    after = log_size()
    return Built(after, after - before, claims, time.monotonic() - started)
