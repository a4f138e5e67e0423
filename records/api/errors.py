"""Errors of the public API: a JSON body that names what was wrong."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from records.selectors import BadAsOf


def exception_handler(error, context):
    """DRF's handler, with the gate's own refusals turned into 400s naming the parameter."""
    if isinstance(error, BadAsOf):
        error = exceptions.ValidationError({"as_of": [str(error)]})
    elif isinstance(error, DjangoValidationError):
        # A field's own check (to_python) raises a list of messages with no field to name.
        messages = (
            error.message_dict
            if hasattr(error, "error_dict")
            else {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
        )
        error = exceptions.ValidationError(messages)
    return drf_exception_handler(error, context)
