"""Read-only representations of published records. They read only what the public gate gave
and the related records a view gathered (records.api.related); never accounts or comments."""

from collections.abc import Mapping
from functools import cached_property
from operator import attrgetter

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from records.selectors import summarise


class FlatSerializer(serializers.Serializer):
    """A read-only serializer that writes a record without DRF's generic lookup per field (a
    Mapping check, a callable check and error handling for every value), which was a third of
    the serializing of a fact page: 150 claims of 16 fields each. A field that reads one
    attribute is read with ``attrgetter``, a method field is given the record; DRF's own lookup
    still reads a field with a lookup of its own (related fields) or a dotted source, an
    attribute that is absent or raises what DRF's lookup answers for (KeyError,
    ObjectDoesNotExist: the field's default, None or no key) or is callable, and every field of
    a record that is a Mapping. The fields themselves convert every value, so the output is
    DRF's own (tests/test_api.py holds the two equal)."""

    @cached_property
    def _plan(self) -> list[tuple]:
        return [(field, _reader(field)) for field in self._readable_fields]

    def to_representation(self, instance) -> dict:
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        data = {}
        for field, read in self._plan:
            if read is not None:
                try:
                    value = read(instance)
                except (AttributeError, KeyError, ObjectDoesNotExist):
                    pass  # absent: DRF's lookup gives the field's default, None or no key
                else:
                    if not callable(value) or value is instance:
                        # As DRF does: a field never converts None.
                        data[field.field_name] = (
                            None if value is None else field.to_representation(value)
                        )
                        continue
            # DRF's own lookup, as Serializer.to_representation makes it.
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            present = value.pk if isinstance(value, PKOnlyObject) else value
            data[field.field_name] = None if present is None else field.to_representation(value)
        return data


def _itself(record):
    return record


def _reader(field):
    """How FlatSerializer reads a field's value from a record: the record itself (a method
    field), one attribute, or None for DRF's own lookup."""
    if type(field).get_attribute is not serializers.Field.get_attribute:
        return None  # a field with a lookup of its own (related fields, for one)
    if field.source == "*":
        return _itself
    if len(field.source_attrs) != 1:
        return None  # a dotted source
    return attrgetter(field.source_attrs[0])


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
            _ref(claim, "original_wording", "status")
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
