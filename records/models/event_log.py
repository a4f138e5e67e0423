"""The event log: the archive's only source of truth. Rows are appended, never changed."""

from django.db import models

from records.events import DomainEvent, load_event


class StoredEvent(models.Model):
    # Assigned by the event store under its append lock, so position order is commit order.
    position = models.BigIntegerField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    stream_id = models.UUIDField()
    stream_type = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    event_type = models.CharField(max_length=80)
    schema_version = models.PositiveSmallIntegerField()
    data = models.JSONField()
    # {"actor_id": 3, "actor": "archivist", "reason": "...", "correlation_id": "..."}
    metadata = models.JSONField()
    recorded_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    # On PostgreSQL, Django adds a LIKE-prefix index beside the unique one; migration 0008 drops
    # it (nothing reads it). A migration that alters this column makes it again: drop it again.
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "records_event"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["stream_id", "version"], name="event_stream_version"),
        ]
        indexes = [models.Index(fields=["stream_type", "position"], name="event_type_position")]

    def __str__(self) -> str:
        stream = f"{self.stream_type}/{self.stream_id}"
        return f"#{self.position} {self.event_type} {stream} v{self.version}"

    def domain_event(self) -> DomainEvent:
        return load_event(self.event_type, self.schema_version, self.data)

    @property
    def actor_id(self) -> int | None:
        return self.metadata.get("actor_id")

    @property
    def reason(self) -> str:
        return self.metadata.get("reason", "")
