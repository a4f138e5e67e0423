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

from records.event_store import ConcurrencyError
from records.workflow import WorkflowError

CONFLICT = (
    "Someone saved this {kind} after you opened it: you loaded version {loaded}, it is now at "
    "version {current}. Nothing was saved, and what you typed is kept."
)
TAKEN = "Their changes to {fields} are now in the form."
CLASHES = "You both changed {fields}: yours are shown (the History page shows theirs)."
SAVE_AGAIN = "Check the form, then save again to record your revision over version {current}."
ALREADY_SAVED = (
    "This form was already saved once, with other values. Reload the page to make another change."
)
NO_VERSION = "This form does not say which version it was loaded at. Reload the page."
# The hidden fields' errors would be invisible next to them: they are shown above the form.
HIDDEN_FIELD_ERRORS = {"event_id": ALREADY_SAVED, "expected_version": NO_VERSION}


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
        if not self.is_new:
            self.initial.update(self.values_of(self.instance))
            self.initial["expected_version"] = self.instance.version
            self.fields["expected_version"].required = True
        self.fields["event_id"].initial = uuid.uuid4()

    @property
    def is_new(self) -> bool:
        return self.instance._state.adding

    def run(self, data: dict):
        """Call the command with the cleaned data; return the record."""
        raise NotImplementedError

    def values_of(self, record) -> dict:
        """The form's values for a stored revision of the record (to edit, or to merge)."""
        raise NotImplementedError

    def _post_clean(self):
        # Replaces ModelForm's model validation: the command is the one judge of the input.
        self._raise_hidden_errors()
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

    def _raise_hidden_errors(self) -> None:
        for name, message in HIDDEN_FIELD_ERRORS.items():
            if self._errors.pop(name, None):
                self.cleaned_data.pop(name, None)
                self.add_error(None, message)

    def _show(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, messages in error.message_dict.items():
            field = self.error_fields.get(key, key)
            if key in HIDDEN_FIELD_ERRORS:
                self.add_error(None, HIDDEN_FIELD_ERRORS[key])
            elif field in self.fields and field not in self.errors:
                self.add_error(field, messages)
            elif key == "__all__":
                self.add_error(None, messages)
            else:
                # A part of a structured field (e.g. "names.1.language"): say which.
                self.add_error(None, [f"{key}: {message}" for message in messages])

    def _conflict(self) -> None:
        """Someone saved first. Merge as a careful colleague would: take their changes where the
        user left a field as loaded, keep the user's input everywhere else, and say which
        fields both changed. Nothing is saved until the user, having looked, saves again."""
        loaded = self.cleaned_data.get("expected_version")
        current = type(self.instance).objects.get(pk=self.instance.pk)
        base = type(self.instance).history.filter(id=current.pk, version=loaded).first()
        taken, clashes = [], []
        if base is not None:  # a forged version has no history to merge from
            taken, clashes = self._merge(self.values_of(base.instance), self.values_of(current))
        message = [CONFLICT.format(kind=self.kind, loaded=loaded, current=current.version)]
        if taken:
            message.append(TAKEN.format(fields=", ".join(taken)))
        if clashes:
            message.append(CLASHES.format(fields=", ".join(clashes)))
        message.append(SAVE_AGAIN.format(current=current.version))
        self.add_error(None, " ".join(message))
        # Only the version moves on, so saving again is a deliberate revision of the current one.
        self.data = self.data.copy()
        self.data[self.add_prefix("expected_version")] = current.version

    def _merge(self, base: dict, current: dict) -> tuple[list[str], list[str]]:
        self.data = self.data.copy()  # a request's QueryDict is immutable
        taken, clashes = [], []
        for name, theirs in current.items():
            field, mine = self.fields[name], self[name].data
            if field.disabled or not field.has_changed(base[name], _as_submitted(field, theirs)):
                continue
            label = self[name].label.lower()
            if not field.has_changed(base[name], mine):
                self.data[self.add_prefix(name)] = _as_submitted(field, theirs)
                taken.append(label)
            elif field.has_changed(theirs, mine):
                clashes.append(label)
        return taken, clashes

    def save(self, commit=True):
        return self.record

    def save_m2m(self):
        """The command saved everything there is."""


def _as_submitted(field, value) -> str:
    """A value as the form would have received it from the browser."""
    shown = field.prepare_value(value)
    return "" if shown is None else str(shown)
