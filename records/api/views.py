"""The public API's views: thin, read-only, over the public gate (records.selectors)."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from records import selectors
from records.api import filters, page_cache, params, related, serializers
from records.api.pagination import CheckedOrderingFilter, PublicCursorPagination
from records.api.renderers import CSVRenderer, JSONLDRenderer
from records.selectors import is_whole_number as _is_whole_number

UNKNOWN_FORMAT = "This endpoint gives: {formats}."


class PublicAPIView(APIView):
    """What every public endpoint does: anonymous GETs only, parameters checked, as_of read,
    and cacheable responses (ETag and 304 come from ConditionalGetMiddleware)."""

    http_method_names = ["get", "head", "options"]
    parameters: set[str] = set()  # the endpoint's own query parameters

    def allowed_parameters(self) -> set[str]:
        allowed = params.COMMON_PARAMETERS | self.parameters
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        return allowed

    def initial(self, request, *args, **kwargs):
        formats = [renderer.format for renderer in self.renderer_classes]
        requested = request.query_params.get("format")
        if requested and requested not in formats:
            raise exceptions.ValidationError(
                {"format": [UNKNOWN_FORMAT.format(formats=", ".join(formats))]}
            )
        super().initial(request, *args, **kwargs)
        params.refuse_unknown(request, self.allowed_parameters())
        request.as_of_time = params.as_of(request)
        if request.method == "GET" and settings.API_PAGE_CACHE_ENTRIES:
            self._serve_through_page_cache(request)

    def _serve_through_page_cache(self, request) -> None:
        """DRF looks the handler up after ``initial``: swap it for the stored page, or wrap it
        so that the page it renders is stored (records/api/page_cache.py)."""
        key = page_cache.key_for(request)
        page = page_cache.stored(key)
        handler = self.get

        def serve(*args, **kwargs):
            if page is not None:
                return page
            response = handler(*args, **kwargs)
            page_cache.keep_when_rendered(response, key)
            return response

        self.get = serve

    def handle_exception(self, exc):
        """Errors are JSON whatever format was asked for: a CSV or JSON-LD client still gets a
        body that names the bad parameter."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @property
    def when(self):
        """The moment to answer for (None: now); absent while the schema is being generated."""
        return getattr(self.request, "as_of_time", None)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code < 400:
            if settings.SESSION_COOKIE_NAME in request.COOKIES:
                # A staff browser: it must see its own writes at once, so it asks every time
                # (the ETag keeps that cheap), and no shared cache keeps its copy.
                patch_cache_control(response, private=True, no_cache=True)
            else:
                patch_cache_control(response, public=True, max_age=settings.API_CACHE_SECONDS)
        response.setdefault("Vary", "Accept")
        return response


class PublicViewSet(PublicAPIView, viewsets.ReadOnlyModelViewSet):
    lookup_field = "id"
    # Any id reaches the view, so a malformed one gets the API's JSON 404, not Django's page.
    lookup_value_regex = "[^/]+"
    pagination_class = PublicCursorPagination
    filter_backends = [DjangoFilterBackend, CheckedOrderingFilter]
    renderer_classes = [JSONRenderer]
    record_type = ""  # source, subject, claim: for history
    detail_serializer_class = None

    def related(self, records) -> dict:
        """What the serializer needs beside the records themselves (see records.api.related)."""
        return {}

    def _serialize(self, records, serializer_class, many=True):
        context = {**self.get_serializer_context(), **self.related(records)}
        return serializer_class(records if many else records[0], many=many, context=context).data

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._serialize(page, self.serializer_class))

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        serializer_class = self.detail_serializer_class or self.serializer_class
        return Response(self._serialize([record], serializer_class, many=False))

    @extend_schema(responses=serializers.HistoryPageSerializer)
    @action(detail=True, renderer_classes=[JSONRenderer])
    def history(self, request, id=None):
        """Every published state of this record, oldest first: revisions, ranks, retraction."""
        entries = selectors.published_history(self.record_type, self.get_object().id)
        when = self.when
        if when is not None:
            entries = [entry for entry in entries if entry.recorded_at <= when]
        context = {
            **self.get_serializer_context(),
            **self.related([entry.record for entry in entries]),
            "record_serializer": self.detail_serializer_class or self.serializer_class,
        }
        data = serializers.HistoryEntrySerializer(entries, many=True, context=context).data
        return Response({"results": data})


class SubjectViewSet(PublicViewSet):
    """Published subjects, with their names in every language and script."""

    serializer_class = serializers.SubjectSerializer
    filterset_class = filters.SubjectFilter
    ordering_fields = ["label", "published_at"]
    ordering = ["label", "id"]
    record_type = "subject"

    def get_queryset(self):
        return selectors.published_subjects(as_of=self.when)


class PropertyViewSet(PublicViewSet):
    """What can be said of a subject, with its value type and unit."""

    serializer_class = serializers.PropertySerializer
    filterset_class = filters.PropertyFilter
    ordering_fields = ["key", "label"]
    ordering = ["key", "id"]

    def get_queryset(self):
        return selectors.published_properties(as_of=self.when)

    @extend_schema(exclude=True)
    @action(detail=True)
    def history(self, request, id=None):
        raise exceptions.NotFound("Properties have no revisions.")


def _claim_row(claim: dict | None) -> dict:
    claim = claim or {}
    value = claim.get("value") or {}
    subject = claim.get("subject") or {}
    prop = claim.get("property") or {}
    citation = claim.get("citation") or {}
    source = citation.get("source") or {}
    return {
        "id": claim.get("id"),
        "fact": claim.get("fact"),
        "subject_id": subject.get("id"),
        "subject": subject.get("label"),
        "property": prop.get("key"),
        "value_type": value.get("type"),
        "original_wording": claim.get("original_wording"),
        "best": value.get("best"),
        "lower": value.get("lower"),
        "upper": value.get("upper"),
        "approximate": value.get("approximate"),
        "unit": value.get("unit"),
        "edtf": value.get("edtf"),
        "earliest": value.get("earliest"),
        "latest": value.get("latest"),
        "text": value.get("text"),
        "value_subject_id": value.get("subject_id"),
        "value_subject": value.get("subject_label"),
        "source_id": source.get("id"),
        "source": source.get("title"),
        "locator": citation.get("locator"),
        "quote": citation.get("quote"),
        "quote_start": citation.get("start"),
        "quote_end": citation.get("end"),
        "attributed_to": claim.get("attributed_to"),
        "rank": claim.get("rank"),
        "status": claim.get("status"),
        "retracted_at": claim.get("retracted_at"),
        "retraction_reason": claim.get("retraction_reason"),
        "revision": claim.get("revision"),
        "published_at": claim.get("published_at"),
    }


def _absolute(request, name: str, record_id) -> str:
    """The record's canonical URL: absolute, and without the request's format."""
    return request.build_absolute_uri(reverse(name, kwargs={"id": record_id}))


class ClaimViewSet(PublicViewSet):
    """Published claims (retracted ones too, marked so), each with its citation and rank."""

    serializer_class = serializers.ClaimSerializer
    filterset_class = filters.ClaimFilter
    renderer_classes = [JSONRenderer, CSVRenderer, JSONLDRenderer]
    # Never a nullable field (quantity_best, date_earliest): a cursor cannot page past NULLs,
    # so their rows would go missing.
    ordering_fields = ["published_at", "original_wording"]
    ordering = ["published_at", "id"]
    record_type = "claim"

    def get_queryset(self):
        return selectors.published_claims(as_of=self.when)

    def related(self, records) -> dict:
        return related.for_claims(records, self.when)

    csv_row = staticmethod(_claim_row)

    def jsonld_node(self, claim: dict, request) -> dict:
        url = _absolute(request, "claim-detail", claim["id"])
        source = claim["citation"]["source"] or {}
        node = {
            "@id": url,
            "@type": "prov:Entity",
            "rdfs:label": f"{claim['subject']['label']} · {claim['property']['label']}: "
            f"{claim['original_wording']}",
            "strata:value": claim["value"],
            "strata:quote": claim["citation"]["quote"],
            "strata:locator": claim["citation"]["locator"],
            "strata:rank": claim["rank"],
            "strata:status": claim["status"],
            "strata:revision": claim["revision"],
            "prov:wasDerivedFrom": {
                "@id": _absolute(request, "source-detail", source.get("id")),
                "dcterms:title": source.get("title"),
            },
            "prov:generatedAtTime": {"@value": claim["published_at"], "@type": "xsd:dateTime"},
        }
        if claim["attributed_to"]:
            node["prov:wasAttributedTo"] = {
                "@type": "prov:Agent",
                "rdfs:label": claim["attributed_to"],
            }
        if claim["revision"] > 1:
            history = _absolute(request, "claim-history", claim["id"])
            node["prov:wasRevisionOf"] = {"@id": f"{history}#revision-{claim['revision'] - 1}"}
        if claim["status"] == "retracted":
            node["prov:wasInvalidatedBy"] = {
                "@type": "prov:Activity",
                "rdfs:comment": claim["retraction_reason"],
                "prov:endedAtTime": claim["retracted_at"],
            }
        return node


class FactViewSet(PublicViewSet):
    """Facts (subject · property) with every published claim side by side and their summary."""

    serializer_class = serializers.FactSerializer
    filterset_class = filters.FactFilter
    renderer_classes = [JSONRenderer, CSVRenderer]
    # By id (derived from subject and property), not registered_at: that is when the first
    # claim was drafted, which the order and the cursors would otherwise give away.
    ordering_fields = ["id"]
    ordering = ["id"]

    def get_queryset(self):
        return selectors.published_facts(as_of=self.when)

    def related(self, records) -> dict:
        return related.for_facts(records, self.when)

    @extend_schema(exclude=True)
    @action(detail=True)
    def history(self, request, id=None):
        raise exceptions.NotFound("A fact has no revisions; see its claims' history.")

    @staticmethod
    def csv_row(fact: dict | None) -> dict:
        fact = fact or {}
        subject, prop = fact.get("subject") or {}, fact.get("property") or {}
        summary = fact.get("summary") or {}
        return {
            "id": fact.get("id"),
            "subject_id": subject.get("id"),
            "subject": subject.get("label"),
            "property": prop.get("key"),
            "unit": prop.get("unit"),
            "claims": summary.get("claims"),
            "sources": summary.get("sources"),
            "lowest": summary.get("lowest"),
            "highest": summary.get("highest"),
            "preferred_claim": summary.get("preferred_claim"),
            "disputed": summary.get("disputed"),
        }


class SourceViewSet(PublicViewSet):
    """Published sources, each with the claims that cite it; the full text on the detail."""

    serializer_class = serializers.SourceSerializer
    detail_serializer_class = serializers.SourceDetailSerializer
    filterset_class = filters.SourceFilter
    renderer_classes = [JSONRenderer, JSONLDRenderer]
    ordering_fields = ["title", "published_at"]
    ordering = ["title", "id"]
    record_type = "source"

    def get_queryset(self):
        return selectors.published_sources(as_of=self.when)

    def related(self, records) -> dict:
        return related.for_sources(records, self.when)

    def jsonld_node(self, source: dict, request) -> dict:
        url = _absolute(request, "source-detail", source["id"])
        return {
            "@id": url,
            "@type": ["prov:Entity", "dcterms:BibliographicResource"],
            "dcterms:title": source["title"],
            "dcterms:creator": source["author"],
            "dcterms:publisher": source["publisher"],
            "dcterms:license": source["licence"],
            "dcterms:rights": source["attribution"],
            "dcterms:source": source["url"],
            "prov:generatedAtTime": {"@value": source["published_at"], "@type": "xsd:dateTime"},
            "strata:revision": source["revision"],
            "strata:cited_by": [
                {"@id": _absolute(request, "claim-detail", claim["id"])}
                for claim in source["claims"]
            ],
        }


BAD_AFTER = "after must be a log position: a whole number, 0 or more."
BAD_FEED_LIMIT = "limit must be a whole number from 1 to 1000."


class ChangeFeedView(PublicAPIView, GenericAPIView):
    """Every event after ``after``, in log order: publication events in full (with the digest
    of their metadata), others as digests. Follow ``next`` to the end; check the chain with the
    documented hash rule (docs/api.md)."""

    renderer_classes = [JSONRenderer]
    serializer_class = serializers.ChangeFeedSerializer
    parameters = {"after"}

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="the last position already seen (0)"),
            OpenApiParameter(
                "limit",
                int,
                description="at most this many entries a page, 1 to 1000 (100); a page of long "
                "events holds fewer, so follow next until it is null",
            ),
        ]
    )
    def get(self, request):
        after = _whole_number(request, "after", 0, BAD_AFTER, minimum=0)
        limit = _whole_number(request, "limit", 100, BAD_FEED_LIMIT, minimum=1, maximum=1000)
        page = selectors.change_feed(after=after, limit=limit, as_of=self.when)
        results = [_feed_entry(entry) for entry in page.entries]
        last = page.entries[-1].position if page.entries else after
        next_url = None
        if page.more:
            query = {"after": page.read_to, "limit": limit}
            if "as_of" in request.query_params:
                query["as_of"] = request.query_params["as_of"]
            # Encoded: a time's "+00:00" would otherwise come back as a space.
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
        return Response({"results": results, "last_position": last, "next": next_url})


def _whole_number(request, name, default, message, *, minimum, maximum=None):
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if (
        not _is_whole_number(raw)
        or int(raw) < minimum
        or (maximum is not None and int(raw) > maximum)
    ):
        raise exceptions.ValidationError({name: [message]})
    return int(raw)


def _feed_entry(entry) -> dict:
    body = {
        "position": entry.position,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
        "public": entry.public,
    }
    if entry.public:
        body["event"] = entry.event
    else:
        body["content_digest"] = entry.content_digest
    return body


def not_found(request, *args, **kwargs):
    """Any other path under /api/: a JSON 404, like the API's own."""
    return JsonResponse({"detail": "No such endpoint; see /api/docs/."}, status=404)
