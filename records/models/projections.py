"""Read models. Only the projector (records.projections) writes them, inside a command's
transaction; each history row is stamped from the event that caused it.

Sources, subjects and claims each have two faces:

- the *working* record (``Source``, ``Subject``, ``Claim``): the latest revision, whatever its
  review status, for archivists and reviewers;
- the *published* record (``PublishedSource``, ``PublishedSubject``, ``PublishedClaim``): the
  revision a reviewer approved, which stays public until a newer one is approved. Its history is
  the record's published history, and ``history.as_of`` gives what was public at any time.
"""

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


def _history(excluded_fields=(), no_db_index=()) -> HistoricalRecords:
    # The change reason holds "<EventType>: <reason>", which outgrows the default 100 characters.
    return HistoricalRecords(
        history_change_reason_field=models.TextField(null=True),
        excluded_fields=list(excluded_fields),
        no_db_index=list(no_db_index),
    )


# A working record's history is read by record id (and version, or date), never through the
# records it links to. An index on each link would be kept up on every command and every replay
# for no query: about half of what a replay's inserts into these tables cost the database.
_WORKING_LINKS = [
    "fact",
    "subject",
    "property",
    "subject_value",
    "source",
    "registered_by",
    "status_changed_by",
]


def _working_history() -> HistoricalRecords:
    # status_reason holds the last decision's comment; comments live in the log and in
    # ReviewComment, never in history rows.
    return _history(excluded_fields=["status_reason"], no_db_index=_WORKING_LINKS)


class Status(models.TextChoices):
    DRAFT = "draft"
    IN_REVIEW = "in_review", "in review"
    CHANGES_REQUESTED = "changes_requested", "changes requested"
    PUBLISHED = "published"
    REJECTED = "rejected"
    RETRACTED = "retracted"


class Rank(models.TextChoices):
    PREFERRED = "preferred"
    NORMAL = "normal"
    DEPRECATED = "deprecated"


class Projection(models.Model):
    """Fields every working read model has: where its stream stands and which event put it
    there."""

    id = models.UUIDField(primary_key=True)
    version = models.PositiveIntegerField()
    last_position = models.BigIntegerField()
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True


class Reviewable(models.Model):
    """Where a record stands in review, and why."""

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Content revisions: 1 on registration, +1 on each revision. Review events do not count.
    revision = models.PositiveIntegerField(default=1)
    published_revision = models.PositiveIntegerField(null=True)
    # Ids of every account that wrote part of the revision under work since the last approval:
    # none of them may decide on it (four eyes).
    revision_authors = models.JSONField(default=list)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        abstract = True


class PublicFace(models.Model):
    """Fields of a published record: which revision is public, since when."""

    id = models.UUIDField(primary_key=True)
    revision = models.PositiveIntegerField()
    published_at = models.DateTimeField()
    published_position = models.BigIntegerField()

    class Meta:
        abstract = True


# --- sources -------------------------------------------------------------------------------------


class SourceContent(models.Model):
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=500, blank=True)
    publisher = models.CharField(max_length=500, blank=True)
    published = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    archive_reference = models.CharField(max_length=200, blank=True)
    accessed = models.DateField(null=True, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    attribution = models.TextField(blank=True)
    full_text = models.TextField(blank=True)

    CONTENT_FIELDS = (
        "title",
        "author",
        "publisher",
        "published",
        "url",
        "archive_reference",
        "accessed",
        "licence",
        "attribution",
        "full_text",
    )

    class Meta:
        abstract = True
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Source(Projection, Reviewable, SourceContent):
    history = _working_history()

    class Meta(SourceContent.Meta):
        pass


class PublishedSource(PublicFace, SourceContent):
    history = _history()

    class Meta(SourceContent.Meta):
        pass


# --- subjects ------------------------------------------------------------------------------------


class SubjectKind(models.TextChoices):
    EVENT = "event"
    PERSON = "person"
    PLACE = "place"
    ORGANISATION = "organisation"
    OBJECT = "object"


class SubjectContent(models.Model):
    kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    label = models.CharField(max_length=300)
    # [{"name": ..., "language": ..., "primary": bool}] in the order the archivist gave them
    names = models.JSONField()
    # Every name on its own line, so a search for an alias in any script is one LIKE.
    search_text = models.TextField()

    CONTENT_FIELDS = ("kind", "label", "names", "search_text")

    class Meta:
        abstract = True
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Subject(Projection, Reviewable, SubjectContent):
    history = _working_history()

    class Meta(SubjectContent.Meta):
        pass


class PublishedSubject(PublicFace, SubjectContent):
    history = _history()

    class Meta(SubjectContent.Meta):
        pass


# --- properties ----------------------------------------------------------------------------------


class ValueType(models.TextChoices):
    QUANTITY = "quantity"
    DATE = "date"
    TEXT = "text"
    SUBJECT = "subject"


class Property(Projection):
    """What can be said of a subject. Properties are vocabulary, public once defined."""

    key = models.SlugField(max_length=100, unique=True)
    label = models.CharField(max_length=200)
    value_type = models.CharField(max_length=20, choices=ValueType.choices)
    unit = models.CharField(max_length=50, blank=True)
    count = models.BooleanField(default=False)
    # A subject can have several true values at once (commanders, pathogens): claims with
    # different values then complete each other instead of disputing.
    multivalued = models.BooleanField(default=False)
    history = _history()

    class Meta:
        ordering = ["label"]
        verbose_name_plural = "properties"
        permissions = [
            ("author_records", "Can register, revise and submit records"),
            ("review_records", "Can approve, reject, retract and rank records"),
            ("comment_records", "Can comment on records under review"),
        ]

    def __str__(self) -> str:
        return self.label


FACT_NAMESPACE = uuid.UUID("6f1c9a3e-1d0b-4c55-9a57-2f4f6c0e9b11")


def fact_id_for(subject_id, property_id) -> uuid.UUID:
    """A fact is identified by its subject and property, so its id is derived from both."""
    return uuid.uuid5(FACT_NAMESPACE, f"{subject_id}:{property_id}")


class Fact(models.Model):
    id = models.UUIDField(primary_key=True)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="facts")
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="facts")
    registered_at = models.DateTimeField()
    history = _history()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "property"], name="fact_subject_property"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.property}"


# --- claims --------------------------------------------------------------------------------------


class ClaimContent(models.Model):
    value_type = models.CharField(max_length=20, choices=ValueType.choices)
    # The value as the command normalised it (see records.values); the typed columns below
    # repeat its parts so that they can be filtered and compared in SQL.
    value = models.JSONField()
    original_wording = models.CharField(max_length=500)
    quantity_best = models.DecimalField(max_digits=30, decimal_places=6, null=True)
    quantity_lower = models.DecimalField(max_digits=30, decimal_places=6, null=True)
    quantity_upper = models.DecimalField(max_digits=30, decimal_places=6, null=True)
    quantity_approximate = models.BooleanField(null=True)
    unit = models.CharField(max_length=50, blank=True)
    date_edtf = models.CharField(max_length=100, blank=True)
    date_earliest = models.DateField(null=True)
    date_latest = models.DateField(null=True)
    text_value = models.TextField(blank=True)
    locator = models.CharField(max_length=200, blank=True)
    quote = models.TextField()
    quote_start = models.PositiveIntegerField(null=True)
    quote_end = models.PositiveIntegerField(null=True)
    attributed_to = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    rank = models.CharField(max_length=20, choices=Rank.choices, default=Rank.NORMAL)
    rank_reason = models.TextField(blank=True)

    CONTENT_FIELDS = (
        "value_type",
        "value",
        "original_wording",
        "quantity_best",
        "quantity_lower",
        "quantity_upper",
        "quantity_approximate",
        "unit",
        "date_edtf",
        "date_earliest",
        "date_latest",
        "text_value",
        "locator",
        "quote",
        "quote_start",
        "quote_end",
        "attributed_to",
        "note",
        "fact_id",
        "subject_id",
        "property_id",
        "subject_value_id",
        "source_id",
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.original_wording} ({self.quote[:40]})"


class Claim(Projection, Reviewable, ClaimContent):
    fact = models.ForeignKey(Fact, on_delete=models.PROTECT, related_name="claims")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="claims")
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="claims")
    subject_value = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="claims_as_value", null=True
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="claims")
    history = _working_history()

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            # The last guard behind rank_claim, which demotes the old preferred claim.
            models.UniqueConstraint(
                fields=["fact"],
                condition=models.Q(rank="preferred") & ~models.Q(status="retracted"),
                name="one_preferred_claim_per_fact",
            )
        ]


class PublicStatus(models.TextChoices):
    PUBLISHED = "published"
    RETRACTED = "retracted"


class PublishedClaim(PublicFace, ClaimContent):
    fact = models.ForeignKey(Fact, on_delete=models.PROTECT, related_name="published_claims")
    subject = models.ForeignKey(PublishedSubject, on_delete=models.PROTECT, related_name="claims")
    # Indexed with the list's order instead (Meta.indexes): a property holds a seventh of all
    # claims, and a page of them filtered by property would otherwise sort them all.
    property = models.ForeignKey(
        Property, on_delete=models.PROTECT, related_name="published_claims", db_index=False
    )
    subject_value = models.ForeignKey(
        PublishedSubject, on_delete=models.PROTECT, related_name="claims_as_value", null=True
    )
    source = models.ForeignKey(PublishedSource, on_delete=models.PROTECT, related_name="claims")
    status = models.CharField(
        max_length=20, choices=PublicStatus.choices, default=PublicStatus.PUBLISHED
    )
    retracted_at = models.DateTimeField(null=True)
    retraction_reason = models.TextField(blank=True)
    history = _history()

    class Meta:
        ordering = ["published_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fact"],
                condition=models.Q(rank="preferred", status="published"),
                name="one_preferred_published_claim_per_fact",
            )
        ]
        indexes = [
            # The claim list filtered by property, in its default order: the first page reads
            # 51 rows of the index, however many claims the property holds.
            models.Index(
                fields=["property", "published_at", "id"], name="publishedclaim_by_property"
            )
        ]


# --- review comments -----------------------------------------------------------------------------


class ReviewComment(models.Model):
    """A comment on a record under review, or a reviewer's decision with its comment. Never
    public."""

    position = models.BigIntegerField(primary_key=True)  # the event that made it
    record_type = models.CharField(max_length=20)
    record_id = models.UUIDField(db_index=True)
    revision = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)  # comment, approved, changes_requested, rejected, ...
    text = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.record_type} {self.record_id} r{self.revision}"
