"""Read models. Only the projector (records.projections) writes them, inside a command's
transaction; each history row is stamped from the event that caused it."""

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


def _history() -> HistoricalRecords:
    # The change reason holds "<EventType>: <reason>", which outgrows the default 100 characters.
    return HistoricalRecords(history_change_reason_field=models.TextField(null=True))


class Projection(models.Model):
    """Fields every read model has: where its stream stands and which event put it there."""

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


class Source(Projection):
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
    history = _history()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class SubjectKind(models.TextChoices):
    EVENT = "event"
    PERSON = "person"
    PLACE = "place"
    ORGANISATION = "organisation"
    OBJECT = "object"


class Subject(Projection):
    kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    label = models.CharField(max_length=300)
    # [{"name": ..., "language": ..., "primary": bool}] in the order the archivist gave them
    names = models.JSONField()
    # Every name on its own line, so a search for an alias in any script is one LIKE.
    search_text = models.TextField()
    history = _history()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class ValueType(models.TextChoices):
    QUANTITY = "quantity"
    DATE = "date"
    TEXT = "text"
    SUBJECT = "subject"


class Property(Projection):
    key = models.SlugField(max_length=100, unique=True)
    label = models.CharField(max_length=200)
    value_type = models.CharField(max_length=20, choices=ValueType.choices)
    unit = models.CharField(max_length=50, blank=True)
    count = models.BooleanField(default=False)
    history = _history()

    class Meta:
        ordering = ["label"]
        verbose_name_plural = "properties"

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


class Claim(Projection):
    fact = models.ForeignKey(Fact, on_delete=models.PROTECT, related_name="claims")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="claims")
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="claims")
    value_type = models.CharField(max_length=20, choices=ValueType.choices)
    # The value as the archivist's command normalised it (see records.values); the typed
    # columns below repeat its parts so that they can be filtered and compared in SQL.
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
    subject_value = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="claims_as_value", null=True
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="claims")
    locator = models.CharField(max_length=200, blank=True)
    quote = models.TextField()
    quote_start = models.PositiveIntegerField(null=True)
    quote_end = models.PositiveIntegerField(null=True)
    attributed_to = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    history = _history()

    class Meta:
        ordering = ["registered_at", "id"]

    def __str__(self) -> str:
        return f"{self.fact}: {self.original_wording}"
