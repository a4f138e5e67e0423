"""Input rules shared by the commands: size limits, messages, and an error collector.

Every failure is a ``django.core.exceptions.ValidationError`` whose ``message_dict`` maps the
offending field (dotted for nested input: ``value.lower``, ``citation.quote``) to the reason.
Messages are constants so that tests and callers can compare against them.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError

# Maximum lengths in characters (Unicode code points). Documented in docs/architecture.md.
LIMITS = {
    "title": 500,
    "author": 500,
    "publisher": 500,
    "published": 100,
    "url": 2000,
    "archive_reference": 200,
    "licence": 200,
    "attribution": 2000,
    "full_text": 2_000_000,
    "name": 300,
    "language": 35,
    "key": 100,
    "label": 200,
    "unit": 50,
    "original": 500,
    "text": 2000,
    "edtf": 100,
    "locator": 200,
    "quote": 2000,
    "attributed_to": 300,
    "note": 5000,
    "reason": 2000,
}

REQUIRED = "This field is required."
TOO_LONG = "At most {limit} characters; this has {length}."
NOT_A_UUID = "Not a valid id: {value!r}."
NOT_A_CHOICE = "{value!r} is not one of: {choices}."
NOTHING_CHANGED = "This revision changes nothing."
ACTOR_REQUIRED = "An active user account is required."
EXPECTED_TEXT = "Expected text."
EXPECTED_BOOLEAN = "Expected true or false."
NUL_CHARACTER = "Text cannot contain the NUL character (U+0000)."


class Errors:
    """Collects every problem with one input before refusing it, so the user sees them all."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.messages

    def raise_if_any(self) -> None:
        if self.messages:
            raise ValidationError(self.messages)

    def text(
        self, field: str, value, *, limit_key: str | None = None, required=False, strip=True
    ) -> str:
        """A string field: required or not, within its size limit. Returns it stripped, unless
        ``strip`` is false (quotes and full texts are kept exactly: offsets count into them)."""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, EXPECTED_TEXT)
            return ""
        if "\x00" in value:
            # PostgreSQL cannot store it in text; refuse it on every backend alike.
            self.add(field, NUL_CHARACTER)
            return ""
        if strip:
            value = value.strip()
        if required and not value.strip():
            self.add(field, REQUIRED)
        limit = LIMITS[limit_key or field.rsplit(".", 1)[-1]]
        if len(value) > limit:
            self.add(field, TOO_LONG.format(limit=limit, length=len(value)))
        return value

    def choice(self, field: str, value, choices) -> str:
        if value in (None, ""):
            self.add(field, REQUIRED)
            return ""
        if value not in choices:
            self.add(field, NOT_A_CHOICE.format(value=value, choices=", ".join(choices)))
        return value

    def uuid(self, field: str, value) -> uuid.UUID | None:
        if value in (None, ""):
            self.add(field, REQUIRED)
            return None
        try:
            return uuid.UUID(str(value))
        except ValueError:
            self.add(field, NOT_A_UUID.format(value=value))
            return None
