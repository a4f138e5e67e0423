from records.models.event_log import StoredEvent
from records.models.projections import (
    Claim,
    Fact,
    Property,
    PublishedClaim,
    PublishedSource,
    PublishedSubject,
    ReviewComment,
    Source,
    Subject,
)

__all__ = [
    "Claim",
    "Fact",
    "Property",
    "PublishedClaim",
    "PublishedSource",
    "PublishedSubject",
    "ReviewComment",
    "Source",
    "StoredEvent",
    "Subject",
]
