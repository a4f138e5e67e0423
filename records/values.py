"""Typed claim values and citations: check what the archivist gave, keep the original wording,
and compute the normalised parts (bounds, EDTF date range, quote offsets).

A value is stored as a plain dict, for example::

    {"type": "quantity", "original": "around 250,000", "best": "250000",
     "lower": "250000", "upper": "250000", "approximate": true, "unit": "persons"}
    {"type": "date", "original": "early September, 1942", "edtf": "1942-09",
     "part": "early", "earliest": "1942-09-01", "latest": "1942-09-10"}
    {"type": "text", "original": "died while bailing out", "text": "died while bailing out"}
    {"type": "subject", "original": "Shunroku Hata", "subject_id": "…"}

Numbers are kept as decimal strings so that they hash and compare exactly on every backend.
"""

from __future__ import annotations

import calendar
import functools
import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from edtf import EDTFParseException, parse_edtf, struct_time_to_date

from records.models import Property, Source, Subject
from records.models.projections import ValueType
from records.validation import EXPECTED_BOOLEAN, REQUIRED, Errors

UNKNOWN_CITATION_FIELDS = (
    "A citation has no field {fields}; it takes source_id, locator, quote, start and end."
)
CITATION_FIELDS = {"source_id", "locator", "quote", "start", "end"}
WRONG_FIELDS = "A {value_type} value has no field {fields}; property {label!r} takes {value_type}."
WRONG_TYPE = "Property {label!r} takes a {expected} value, not {given}."
NOT_A_NUMBER = "Enter a number, such as 250000 or 12.5."
NUMBER_OUT_OF_RANGE = "At most 24 digits before the decimal point and 6 after."
LOWER_ABOVE_BEST = "The lower bound ({lower}) is above the best value ({best})."
BEST_ABOVE_UPPER = "The best value ({best}) is above the upper bound ({upper})."
LOWER_ABOVE_UPPER = "The lower bound ({lower}) is above the upper bound ({upper})."
NO_NUMBER = "Give a best value, or both a lower and an upper bound."
NEGATIVE_COUNT = "A count cannot be negative."
FRACTIONAL_COUNT = "A count must be a whole number."
WRONG_UNIT = "Property {label!r} is measured in {expected!r}, not {given!r}."
BAD_EDTF = "{value!r} is not a valid EDTF date (for example 1942-09 or 1942-05/1942-09)."
OPEN_EDTF = "{value!r} has no fixed bounds; give a closed date or interval."
PART_NEEDS_MONTH = "early, mid or late applies to a month; give the EDTF as YYYY-MM."
BAD_PART = "{value!r} is not one of: early, mid, late."
UNKNOWN_SUBJECT = "No subject with id {value}."
UNKNOWN_SOURCE = "No source with id {value}."
QUOTE_NOT_IN_TEXT = "The quote does not occur in the source's text."
QUOTE_AMBIGUOUS = "The quote occurs {count} times in the source's text; give its start offset."
OFFSETS_MISMATCH = "Characters {start}–{end} of the source's text are {found!r}, not the quote."
OFFSETS_WITHOUT_TEXT = (
    "The source's text is not held, so offsets cannot be checked; leave them out."
)
BAD_OFFSET = "Offsets are whole numbers of characters, 0 or more."

FIELDS_BY_TYPE = {
    ValueType.QUANTITY: {"type", "original", "best", "lower", "upper", "approximate", "unit"},
    ValueType.DATE: {"type", "original", "edtf", "part"},
    ValueType.TEXT: {"type", "original", "text"},
    ValueType.SUBJECT: {"type", "original", "subject_id"},
}

# DESIGN convention for parts of a month: early = days 1–10, mid = 11–20, late = 21 to the end.
PARTS_OF_MONTH = {"early": (1, 10), "mid": (11, 20), "late": (21, None)}
# [0-9], not \d: \d matches any script's digits, which EDTF does not allow.
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


class References:
    """Where values and citations look up the records they refer to. By default, the database,
    one query per lookup; a bulk import passes lookups answered from records it loaded at once
    (``records.import_references``), so that the same rules run without a query per line."""

    def subject_exists(self, subject_id: uuid.UUID) -> bool:
        return Subject.objects.filter(pk=subject_id).exists()

    def source_text(self, source_id: uuid.UUID) -> str | None:
        """The source's (working) full text, "" when none is held, None when there is no such
        source."""
        source = Source.objects.filter(pk=source_id).only("full_text").first()
        return None if source is None else source.full_text


DATABASE = References()


def normalise_value(errors: Errors, raw, prop: Property, refs: References = DATABASE) -> dict:
    if not isinstance(raw, dict) or not raw:
        errors.add("value", REQUIRED)
        return {}
    value_type = ValueType(prop.value_type)
    given_type = raw.get("type", value_type)
    if given_type != value_type:
        errors.add(
            "value.type",
            WRONG_TYPE.format(label=prop.label, expected=value_type, given=given_type),
        )
        return {}
    foreign = sorted(set(raw) - FIELDS_BY_TYPE[value_type])
    if foreign:
        errors.add(
            "value",
            WRONG_FIELDS.format(value_type=value_type, fields=", ".join(foreign), label=prop.label),
        )
        return {}
    original = errors.text("value.original", raw.get("original"), required=True)
    normalise = {
        ValueType.QUANTITY: _quantity,
        ValueType.DATE: _date,
        ValueType.TEXT: _text,
        ValueType.SUBJECT: _subject,
    }[value_type]
    return {"type": str(value_type), "original": original, **normalise(errors, raw, prop, refs)}


def _decimal(errors: Errors, field: str, raw) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        errors.add(field, NOT_A_NUMBER)
        return None
    try:
        number = Decimal(str(raw).replace("_", ""))
    except InvalidOperation:
        errors.add(field, NOT_A_NUMBER)
        return None
    if not number.is_finite():
        errors.add(field, NOT_A_NUMBER)
        return None
    # The read models store numeric(30, 6): refuse what they cannot hold rather than round it.
    plain = number.normalize()
    if abs(plain) >= Decimal(10) ** 24 or plain.as_tuple().exponent < -6:
        errors.add(field, NUMBER_OUT_OF_RANGE)
        return None
    return number


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _quantity(errors: Errors, raw: dict, prop: Property, refs: References) -> dict:
    best = _decimal(errors, "value.best", raw.get("best"))
    lower = _decimal(errors, "value.lower", raw.get("lower"))
    upper = _decimal(errors, "value.upper", raw.get("upper"))
    if any(field in errors for field in ("value.best", "value.lower", "value.upper")):
        return {}
    if best is None and (lower is None or upper is None):
        errors.add("value.best", NO_NUMBER)
        return {}
    given = [
        field
        for field, number in (("value.best", best), ("value.lower", lower), ("value.upper", upper))
        if number is not None
    ]
    lower = best if lower is None else lower
    upper = best if upper is None else upper
    if best is not None and lower > best:
        errors.add("value.lower", LOWER_ABOVE_BEST.format(lower=_plain(lower), best=_plain(best)))
    if best is not None and best > upper:
        errors.add("value.upper", BEST_ABOVE_UPPER.format(best=_plain(best), upper=_plain(upper)))
    if best is None and lower > upper:
        errors.add(
            "value.lower", LOWER_ABOVE_UPPER.format(lower=_plain(lower), upper=_plain(upper))
        )
    if prop.count:
        # Only the numbers the archivist gave: a defaulted bound repeats the best value's error.
        for field in given:
            number = {"value.best": best, "value.lower": lower, "value.upper": upper}[field]
            if number < 0:
                errors.add(field, NEGATIVE_COUNT)
            elif number != number.to_integral_value():
                errors.add(field, FRACTIONAL_COUNT)
    unit = raw.get("unit") or prop.unit
    if unit != prop.unit:
        errors.add(
            "value.unit", WRONG_UNIT.format(label=prop.label, expected=prop.unit, given=unit)
        )
    approximate = raw.get("approximate", False)
    if not isinstance(approximate, bool):
        errors.add("value.approximate", EXPECTED_BOOLEAN)
    return {
        "best": None if best is None else _plain(best),
        "lower": _plain(lower),
        "upper": _plain(upper),
        "approximate": approximate,
        "unit": unit,
    }


def _date(errors: Errors, raw: dict, prop: Property, refs: References) -> dict:
    edtf_text = errors.text("value.edtf", raw.get("edtf"), required=True)
    part = raw.get("part") or None
    if "value.edtf" in errors:
        return {}
    try:
        earliest, latest = edtf_bounds(edtf_text)
    except EDTFParseException:
        errors.add("value.edtf", BAD_EDTF.format(value=edtf_text))
        return {}
    except (TypeError, ValueError, OverflowError, AttributeError):
        errors.add("value.edtf", OPEN_EDTF.format(value=edtf_text))
        return {}
    if part is not None:
        if not isinstance(part, str) or part not in PARTS_OF_MONTH:
            errors.add("value.part", BAD_PART.format(value=part))
            return {}
        month = _MONTH.match(edtf_text)
        # EDTF writes seasons as YYYY-21..41, which look like months: only 01–12 are.
        if not month or not 1 <= int(month.group(2)) <= 12:
            errors.add("value.part", PART_NEEDS_MONTH)
            return {}
        year, month_number = int(month.group(1)), int(month.group(2))
        first_day, last_day = PARTS_OF_MONTH[part]
        last_day = last_day or calendar.monthrange(year, month_number)[1]
        earliest = date(year, month_number, first_day)
        latest = date(year, month_number, last_day)
    return {
        "edtf": edtf_text,
        "part": part,
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
    }


_PLAIN_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@functools.lru_cache(maxsize=4096)
def edtf_bounds(edtf_text: str) -> tuple[date, date]:
    """The first and last day an EDTF date or interval can mean, as the ``edtf`` package
    computes them. Raises ``EDTFParseException`` for text that is not EDTF, and ``TypeError``,
    ``ValueError``, ``OverflowError`` or ``AttributeError`` for a date without fixed bounds.

    A plain year, month or day (``1942``, ``1942-09``, ``1942-09-05``), the common case, is
    computed directly, to the same result: the package's parser takes milliseconds a date,
    which a bulk import of thousands of dates cannot afford. Anything else is parsed."""
    plain = _PLAIN_DATE.fullmatch(edtf_text)
    if plain:
        year, month, day = (int(part) if part else None for part in plain.groups())
        try:
            if day is not None:
                return date(year, month, day), date(year, month, day)
            if month is not None:
                last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
                return date(year, month, 1), date(year, month, last)
            return date(year, 1, 1), date(year, 12, 31)
        except ValueError:
            pass  # year 0, month 00 or 13+ (seasons), day out of range: as the parser says
    parsed = parse_edtf(edtf_text)
    return struct_time_to_date(parsed.lower_strict()), struct_time_to_date(parsed.upper_strict())


def _text(errors: Errors, raw: dict, prop: Property, refs: References) -> dict:
    return {"text": errors.text("value.text", raw.get("text"), required=True)}


def _subject(errors: Errors, raw: dict, prop: Property, refs: References) -> dict:
    subject_id = errors.uuid("value.subject_id", raw.get("subject_id"))
    if subject_id is not None and not refs.subject_exists(subject_id):
        errors.add("value.subject_id", UNKNOWN_SUBJECT.format(value=subject_id))
    return {"subject_id": str(subject_id) if subject_id else None}


def _offset(errors: Errors, field: str, raw) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        errors.add(field, BAD_OFFSET)
        return None
    return raw


def normalise_citation(errors: Errors, raw, refs: References = DATABASE) -> dict:
    """Check a citation; where the source's text is held, verify or compute the quote's offsets
    (in Unicode code points, as Python indexes strings)."""
    if not isinstance(raw, dict) or not raw:
        errors.add("citation", REQUIRED)
        return {}
    unknown = sorted(set(raw) - CITATION_FIELDS)
    if unknown:
        # A misspelt "locator" would otherwise vanish without a word.
        errors.add("citation", UNKNOWN_CITATION_FIELDS.format(fields=", ".join(unknown)))
    source_id = errors.uuid("citation.source_id", raw.get("source_id"))
    locator = errors.text("citation.locator", raw.get("locator"))
    # A quote is exact: keep its spacing as given rather than stripping it.
    quote = errors.text("citation.quote", raw.get("quote"), required=True, strip=False)
    start = _offset(errors, "citation.start", raw.get("start"))
    end = _offset(errors, "citation.end", raw.get("end"))
    text = None
    if source_id is not None:
        text = refs.source_text(source_id)
        if text is None:
            errors.add("citation.source_id", UNKNOWN_SOURCE.format(value=source_id))
    if (
        text is None
        or "citation.quote" in errors
        or errors.messages.keys()
        & {
            "citation.start",
            "citation.end",
        }
    ):
        return {}
    start, end = locate_quote(errors, text, quote, start, end)
    return {
        "source_id": str(source_id),
        "locator": locator,
        "quote": quote,
        "start": start,
        "end": end,
    }


def quote_stands(claim, text: str) -> bool:
    """Whether a claim's quote holds in ``text``: at its offsets when it has them, anywhere when
    it was made while its source held no text. Nothing can be checked against no text."""
    if not text:
        return claim.quote_start is None
    if claim.quote_start is None:
        return claim.quote in text
    return text[claim.quote_start : claim.quote_end] == claim.quote


def _occurrences(text: str, quote: str) -> int:
    """How many places the quote starts at, overlapping ones included ("ha ha" in "ha ha ha")."""
    count, start = 0, text.find(quote)
    while start != -1:
        count += 1
        start = text.find(quote, start + 1)
    return count


def locate_quote(
    errors: Errors, text: str, quote: str, start: int | None, end: int | None
) -> tuple[int | None, int | None]:
    if not text:
        if start is not None or end is not None:
            errors.add(
                "citation.start" if start is not None else "citation.end", OFFSETS_WITHOUT_TEXT
            )
        return None, None
    if start is None and end is None:
        count = _occurrences(text, quote)
        if count == 0:
            errors.add("citation.quote", QUOTE_NOT_IN_TEXT)
            return None, None
        if count > 1:
            errors.add("citation.start", QUOTE_AMBIGUOUS.format(count=count))
            return None, None
        start = text.index(quote)
    if start is None:
        start = end - len(quote)
        if start < 0:
            errors.add("citation.end", BAD_OFFSET)
            return None, None
    if end is None:
        end = start + len(quote)
    found = text[start:end]
    if found != quote:
        if quote not in text:
            errors.add("citation.quote", QUOTE_NOT_IN_TEXT)
        else:
            excerpt = found if len(found) <= 60 else found[:57] + "..."
            errors.add(
                "citation.start", OFFSETS_MISMATCH.format(start=start, end=end, found=excerpt)
            )
        return None, None
    return start, end
