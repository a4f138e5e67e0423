"""Read-only representations of published records. They read only what the public gate gave
and the related records a view gathered (records.api.related); never accounts or comments."""

from functools import cached_property
from operator import attrgetter

from rest_framework import serializers

from records.selectors import summarise


class FlatSerializer(serializers.Serializer):
    """A read-only serializer whose every field reads one attribute of the record (or the whole
    record, for a method field). It writes a record out without DRF's generic lookup per field
    (a Mapping check, a callable check and error handling for every value), which was a third of
    the serializing of a fact page: 150 claims of 16 fields each. The fields themselves still
    convert every value, so the output is DRF's own (tests/test_api.py holds the two equal)."""

    @cached_property
    def _plan(self) -> list[tuple]:
        plan = []
        for field in self._readable_fields:
            if field.source == "*":
                plan.append((field.field_name, None, field.to_representation))
            else:
                (attribute,) = field.source_attrs  # a dotted source would need DRF's lookup
                plan.append((field.field_name, attrgetter(attribute), field.to_representation))
        return plan

    def to_representation(self, instance) -> dict:
        data = {}
        for name, read, represent in self._plan:
            if read is None:
                data[name] = represent(instance)
            else:
                value = read(instance)
                # As DRF does: a field never converts None.
                data[name] = None if value is None else represent(value)
        return data


def _ref(record, *fields):
    if record is None:
        return None
    # The id as text, as the JSON encoder would write it: a page names several hundred related
    # records, and the encoder's fallback for a UUID is a Python call each.
    return {"id": str(record.id), **{field: getattr(record, field) for field in fields}}


class SubjectSerializer(FlatSerializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    label = serializers.CharField()
    names = serializers.ListField(child=serializers.DictField())
    revision = serializers.IntegerField()
    published_at = serializers.DateTimeField()


class PropertySerializer(FlatSerializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    label = serializers.CharField()
    value_type = serializers.CharField()
    unit = serializers.CharField()
    count = serializers.BooleanField()
    multivalued = serializers.BooleanField()


class ClaimSerializer(FlatSerializer):
    id = serializers.UUIDField()
    fact = serializers.UUIDField(source="fact_id")
    subject = serializers.SerializerMethodField()
    property = serializers.SerializerMethodField()
    value = serializers.DictField()
    original_wording = serializers.CharField()
    citation = serializers.SerializerMethodField()
    attributed_to = serializers.CharField()
    note = serializers.CharField()
    rank = serializers.CharField()
    rank_reason = serializers.CharField()
    status = serializers.CharField()
    retracted_at = serializers.DateTimeField(allow_null=True)
    retraction_reason = serializers.CharField()
    revision = serializers.IntegerField()
    published_at = serializers.DateTimeField()

    def _related(self, kind: str, record_id):
        return self.context[kind].get(record_id)

    def get_subject(self, claim) -> dict:
        return _ref(self._related("subjects", claim.subject_id), "label", "kind")

    def get_property(self, claim) -> dict:
        return _ref(self._related("properties", claim.property_id), "key", "label", "value_type")

    def get_citation(self, claim) -> dict:
        return {
            "source": _ref(self._related("sources", claim.source_id), "title"),
            "locator": claim.locator,
            "quote": claim.quote,
            "start": claim.quote_start,
            "end": claim.quote_end,
        }

    def to_representation(self, claim):
        data = super().to_representation(claim)
        if claim.subject_value_id:
            value_subject = self._related("subjects", claim.subject_value_id)
            data["value"] = {
                **data["value"],
                "subject_label": getattr(value_subject, "label", None),
            }
        return data


class SummarySerializer(FlatSerializer):
    claims = serializers.IntegerField()
    sources = serializers.IntegerField()
    lowest = serializers.CharField(allow_null=True)
    highest = serializers.CharField(allow_null=True)
    preferred_claim = serializers.UUIDField(source="preferred_claim_id", allow_null=True)
    disputed = serializers.BooleanField()


class FactSerializer(FlatSerializer):
    id = serializers.UUIDField()
    subject = serializers.SerializerMethodField()
    property = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    claims = serializers.SerializerMethodField()

    def get_subject(self, fact) -> dict:
        return _ref(self.context["subjects"].get(fact.subject_id), "label", "kind")

    def get_property(self, fact) -> dict:
        prop = self.context["properties"].get(fact.property_id)
        return _ref(prop, "key", "label", "value_type", "unit")

    def _claims(self, fact) -> list:
        return self.context["claims_by_fact"].get(fact.id, [])

    @cached_property
    def _nested(self) -> tuple[SummarySerializer, ClaimSerializer]:
        # One of each for the whole page: a serializer deep-copies its declared fields when it
        # is made, which would otherwise happen for every fact (most of a page's time).
        return SummarySerializer(), ClaimSerializer(context=self.context)

    def get_summary(self, fact) -> dict:
        prop = self.context["properties"][fact.property_id]
        return self._nested[0].to_representation(summarise(self._claims(fact), prop))

    def get_claims(self, fact) -> list:
        return [self._nested[1].to_representation(claim) for claim in self._claims(fact)]


class SourceSerializer(FlatSerializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    author = serializers.CharField()
    publisher = serializers.CharField()
    published = serializers.CharField()
    url = serializers.CharField()
    archive_reference = serializers.CharField()
    accessed = serializers.DateField(allow_null=True)
    licence = serializers.CharField()
    attribution = serializers.CharField()
    revision = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    claims = serializers.SerializerMethodField()

    def get_claims(self, source) -> list:
        return [
            {"id": claim.id, "original_wording": claim.original_wording, "status": claim.status}
            for claim in self.context["claims_by_source"].get(source.id, [])
        ]


class SourceDetailSerializer(SourceSerializer):
    full_text = serializers.CharField()


class HistoryEntrySerializer(serializers.Serializer):
    recorded_at = serializers.DateTimeField()
    change = serializers.CharField()
    revision = serializers.IntegerField(source="record.revision")
    record = serializers.SerializerMethodField()

    def get_record(self, entry) -> dict:
        return self.context["record_serializer"](entry.record, context=self.context).data


class HistoryPageSerializer(serializers.Serializer):
    results = HistoryEntrySerializer(many=True)


class FeedEventSerializer(serializers.Serializer):
    stream_id = serializers.UUIDField()
    stream_type = serializers.CharField()
    version = serializers.IntegerField()
    event_type = serializers.CharField()
    schema_version = serializers.IntegerField()
    data = serializers.DictField()
    metadata_digest = serializers.CharField()
    recorded_at = serializers.CharField()


class FeedEntrySerializer(serializers.Serializer):
    position = serializers.IntegerField()
    previous_hash = serializers.CharField()
    hash = serializers.CharField()
    public = serializers.BooleanField()
    event = FeedEventSerializer(required=False, help_text="public events only")
    content_digest = serializers.CharField(required=False, help_text="other events only")


class ChangeFeedSerializer(serializers.Serializer):
    results = FeedEntrySerializer(many=True)
    last_position = serializers.IntegerField()
    next = serializers.URLField(
        allow_null=True,
        help_text="the next page; null only when no event follows this one (within as_of)",
    )
