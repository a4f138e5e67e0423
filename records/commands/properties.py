"""Define properties: what can be said of a subject, and with what kind of value."""

from __future__ import annotations

import re
import uuid

from django.db import transaction

from records import events as ev
from records import workflow
from records.commands.base import check_actor, idempotent, record_event, registered_before
from records.event_store import NO_STREAM
from records.models import Property
from records.models.projections import ValueType
from records.validation import Errors

DUPLICATE_KEY = "A property with key {key!r} already exists."
UNIT_FOR_QUANTITY_ONLY = "Only quantity properties have a unit."
COUNT_FOR_QUANTITY_ONLY = "Only quantity properties can be counts."
NOT_A_SLUG = "Use lowercase letters, digits and hyphens, such as civilian-deaths."
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@idempotent
def define_property(
    *,
    key: str,
    label: str,
    value_type: str,
    unit: str = "",
    count: bool = False,
    multivalued: bool = False,
    actor,
    property_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    reason: str = "",
) -> Property:
    """Define a property. ``count``: values are whole numbers, never negative. ``multivalued``:
    a subject can have several true values at once, so differing claims do not dispute."""
    check_actor(actor)
    workflow.check_can_author(actor, "define properties")
    retried = registered_before(event_id, Property)
    if retried is not None:
        return retried
    with transaction.atomic():
        errors = Errors()
        key = errors.text("key", key, required=True)
        if key and not SLUG.fullmatch(key):
            errors.add("key", NOT_A_SLUG)
        label = errors.text("label", label, required=True)
        value_type = errors.choice("value_type", value_type, ValueType.values)
        unit = errors.text("unit", unit)
        reason = errors.text("reason", reason)
        if value_type and value_type != ValueType.QUANTITY:
            if unit:
                errors.add("unit", UNIT_FOR_QUANTITY_ONLY)
            if count:
                errors.add("count", COUNT_FOR_QUANTITY_ONLY)
        if key and Property.objects.filter(key=key).exclude(pk=property_id).exists():
            errors.add("key", DUPLICATE_KEY.format(key=key))
        errors.raise_if_any()
        return record_event(
            event=ev.PropertyDefined(
                property_id=str(property_id or uuid.uuid4()),
                key=key,
                label=label,
                value_type=value_type,
                unit=unit,
                count=bool(count),
                multivalued=bool(multivalued),
            ),
            model=Property,
            expected_version=NO_STREAM,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )
