from records.models.event_log import StoredEvent
from records.models.projections import Claim, Fact, Property, Source, Subject

__all__ = ["Claim", "Fact", "Property", "Source", "StoredEvent", "Subject"]
