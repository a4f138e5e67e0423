"""OpenAPI additions: the statuses every public read can answer, and the as_of parameter."""

AS_OF = {
    "name": "as_of",
    "in": "query",
    "required": False,
    "description": (
        "Answer as of this moment: a log position (whole number) or an ISO 8601 time. "
        "Gives exactly what was published then."
    ),
    "schema": {"type": "string"},
}
ERROR = {
    "description": "",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": True,
                "description": "For 400: each bad parameter's name, with the reasons.",
            }
        }
    },
}
STATUSES = {
    "304": {"description": "Not modified: the If-None-Match ETag still matches."},
    "400": {**ERROR, "description": "A bad parameter; the body names it and says why."},
    "405": {**ERROR, "description": "The API is read-only: only GET, HEAD and OPTIONS."},
    "429": {
        **ERROR,
        "description": "Too many requests; retry after the Retry-After header's seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}
NOT_FOUND = {**ERROR, "description": "No published record with this id."}


# The other formats have shapes of their own, described in docs/api.md.
OTHER_FORMATS = {
    "text/csv": {"type": "string", "description": "One header row, then one row per record."},
    "application/ld+json": {
        "type": "object",
        "description": "A JSON-LD document using W3C PROV-O terms.",
        "properties": {"@context": {"type": "object"}},
        "required": ["@context"],
    },
}


def add_public_statuses(result, generator, request, public):
    """drf-spectacular postprocessing hook (see SPECTACULAR_SETTINGS)."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            content = responses.get("200", {}).get("content", {})
            for media_type, schema in OTHER_FORMATS.items():
                if media_type in content:
                    content[media_type] = {"schema": schema}
            for status, response in STATUSES.items():
                responses.setdefault(status, response)
            if "{id}" in path:
                responses.setdefault("404", NOT_FOUND)
            parameters = operation.setdefault("parameters", [])
            if path.startswith("/api/v1/") and not any(
                parameter.get("name") == "as_of" for parameter in parameters
            ):
                parameters.append(AS_OF)
    return result
