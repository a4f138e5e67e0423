"""Template helpers for the staff pages."""

import uuid

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def event_id_input():
    """A hidden event id for a form that calls a command: a double click or a resent POST is
    then a retry, acknowledged, and stores nothing twice."""
    return format_html('<input type="hidden" name="event_id" value="{}">', uuid.uuid4())
