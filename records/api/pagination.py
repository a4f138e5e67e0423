"""Cursor pagination for every list, with its parameters checked like any other."""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination

from records.selectors import is_whole_number as _is_whole_number

BAD_LIMIT = "limit must be a whole number from 1 to {maximum}."
BAD_CURSOR = "This cursor is not one the API gave; start again from the first page."
BAD_ORDERING = "Order by one of: {allowed} (prefix - to reverse)."


class PublicCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _is_whole_number(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [BAD_LIMIT.format(maximum=self.max_page_size)]}
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model  # for decode_cursor's check of the position
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                self.check_position(cursor.position)
        except (exceptions.NotFound, DjangoValidationError, ValueError, OverflowError):
            raise exceptions.ValidationError({self.cursor_query_param: [BAD_CURSOR]}) from None
        return cursor

    def check_position(self, position: str) -> None:
        """A cursor's position goes straight into the query's filter: parse it as the ordering
        field does, so that a forged one is refused here rather than failing in the database."""
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        value = field.to_python(position)
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                raise ValueError("The API's cursors carry aware times.")
            value.astimezone(UTC)  # SQLite's conversion overflows outside years 1 to 9999 in UTC
        if "\x00" in position:
            raise ValueError("PostgreSQL text cannot hold NUL.")


class CheckedOrderingFilter(OrderingFilter):
    """DRF ignores an unknown ordering field silently; an API user would rather be told."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            allowed = {
                field for field, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            fields = [term.strip().lstrip("-") for term in params.split(",")]
            if any(field not in allowed for field in fields):
                raise exceptions.ValidationError(
                    {self.ordering_param: [BAD_ORDERING.format(allowed=", ".join(sorted(allowed)))]}
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view):
        """The schema names the orderings this endpoint accepts (single fields; the API also
        takes several, comma-separated)."""
        fields = [field for field, _ in self.get_valid_fields(None, view)]
        [parameter] = super().get_schema_operation_parameters(view)
        parameter["description"] = BAD_ORDERING.format(allowed=", ".join(sorted(fields)))
        parameter["schema"] = {
            "type": "string",
            "enum": [f"{sign}{field}" for field in fields for sign in ("", "-")],
        }
        return [parameter]
