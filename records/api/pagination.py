"""Cursor pagination for every list, with its parameters checked like any other."""

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

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError({self.cursor_query_param: [BAD_CURSOR]}) from None


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
