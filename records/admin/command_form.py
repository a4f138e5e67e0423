"""Admin forms that save through a command instead of writing the model.

The admin validates a form, then saves it. Here validation *is* the command: ``_post_clean``
runs it (inside the admin's transaction), so its refusals land next to the fields they name and
the page shows them with everything the user typed. ``save`` then hands back the record the
command made. Nothing writes a model directly.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError

from records.event_store import ConcurrencyError, stream_version
from records.workflow import WorkflowError

CONFLICT = (
    "Someone saved this {kind} after you opened it: you loaded version {loaded}, it is now at "
    "version {current}. Nothing was saved and your input is kept below. Compare it with the "
    "current version (see History), then save again to record your revision over it."
)


class CommandForm(forms.ModelForm):
    """Subclasses define the form fields, ``kind``, ``error_fields`` and ``run``."""

    kind = "record"
    # Where a command's error key (e.g. "citation.quote") is shown, when the form field has
    # another name; keys matching a field name need no entry.
    error_fields: dict[str, str] = {}

    # The version the form was loaded at: a save over a newer one is a conflict, not an
    # overwrite. Set on a change form only.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Every form carries its own event id, so a double click or a resent POST saves once.
    event_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    actor = None  # set per request by CommandAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = None
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version
        self.fields["event_id"].initial = uuid.uuid4()

    @property
    def is_new(self) -> bool:
        return self.instance._state.adding

    def run(self, data: dict):
        """Call the command with the cleaned data; return the record."""
        raise NotImplementedError

    def _post_clean(self):
        # Replaces ModelForm's model validation: the command is the one judge of the input.
        if self.errors:
            return
        try:
            self.record = self.run(self.cleaned_data)
        except ValidationError as error:
            self._show(error)
        except WorkflowError as error:
            self.add_error(None, error.message)
        except ConcurrencyError:
            self._conflict()

    def _show(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.message_dict.items():
            field = self.error_fields.get(key, key)
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
            elif key == "__all__":
                self.add_error(None, messages)
            else:
                # A part of a structured field (e.g. "names.1.language"): say which.
                self.add_error(None, [f"{key}: {message}" for message in messages])

    def _conflict(self) -> None:
        loaded = self.cleaned_data.get("expected_version")
        current = stream_version(self.instance.pk)
        self.add_error(None, CONFLICT.format(kind=self.kind, loaded=loaded, current=current))
        # The input stays as typed; only the version moves on, so that saving again, having
        # looked, is a deliberate revision of the current version.
        self.data = self.data.copy()
        self.data[self.add_prefix("expected_version")] = current

    def save(self, commit=True):
        return self.record

    def save_m2m(self):
        """The command saved everything there is."""
