"""Filters of the public lists (django-filter). Every filter reads through the public gate, as
of the same moment as the list it narrows."""

import django_filters

from records import selectors
from records.models.projections import PublicStatus, SubjectKind


def _when(filterset):
    return getattr(filterset.request, "as_of_time", None)


def _subject_ids(filterset, **conditions) -> list:
    subjects = selectors.published_subjects(as_of=_when(filterset)).filter(**conditions)
    return list(subjects.values_list("id", flat=True))


class _BySubject(django_filters.FilterSet):
    fact_ids_field = "fact_id"  # where a row's fact id is, for the disputed filter
    subject = django_filters.UUIDFilter(field_name="subject_id", label="subject id")
    property = django_filters.UUIDFilter(field_name="property_id", label="property id")
    subject_kind = django_filters.ChoiceFilter(
        choices=SubjectKind.choices, method="filter_subject_kind", label="kind of subject"
    )
    q = django_filters.CharFilter(
        method="filter_names", label="a subject's name or alias, in any script"
    )
    # A choice rather than a BooleanFilter, which would ignore "perhaps" instead of refusing it.
    disputed = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_disputed"
    )

    def filter_subject_kind(self, queryset, name, value):
        return queryset.filter(subject_id__in=_subject_ids(self, kind=value))

    def filter_names(self, queryset, name, value):
        return queryset.filter(subject_id__in=_subject_ids(self, search_text__icontains=value))

    def filter_disputed(self, queryset, name, value):
        disputed = selectors.disputed_fact_ids(as_of=_when(self))
        field = f"{self.fact_ids_field}__in"
        if value == "true":
            return queryset.filter(**{field: disputed})
        return queryset.exclude(**{field: disputed})


class ClaimFilter(_BySubject):
    source = django_filters.UUIDFilter(field_name="source_id", label="source id")
    status = django_filters.ChoiceFilter(choices=PublicStatus.choices)
    date_from = django_filters.DateFilter(
        field_name="date_latest", lookup_expr="gte", label="date values that can fall on or after"
    )
    date_to = django_filters.DateFilter(
        field_name="date_earliest",
        lookup_expr="lte",
        label="date values that can fall on or before",
    )


class FactFilter(_BySubject):
    fact_ids_field = "id"


class SubjectFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SubjectKind.choices)
    q = django_filters.CharFilter(
        field_name="search_text", lookup_expr="icontains", label="a name or alias, in any script"
    )


class SourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label="title")


class PropertyFilter(django_filters.FilterSet):
    value_type = django_filters.CharFilter()
    key = django_filters.CharFilter()
