"""Query parameters every public read shares."""

from rest_framework import exceptions

from records.selectors import resolve_as_of

AS_OF = "as_of"
# Parameters the API itself understands on every endpoint; filters add their own.
COMMON_PARAMETERS = {AS_OF, "format", "cursor", "limit", "ordering"}
UNKNOWN_PARAMETER = "Unknown parameter; this endpoint takes: {allowed}."


def as_of(request):
    """The time to answer for (None: now). A bad value is a 400 naming ``as_of``."""
    return resolve_as_of(request.query_params.get(AS_OF))


def refuse_unknown(request, allowed: set[str]) -> None:
    """A misspelt filter must not silently widen the answer: name it in a 400."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        message = UNKNOWN_PARAMETER.format(allowed=", ".join(sorted(allowed)))
        raise exceptions.ValidationError({name: [message] for name in unknown})
