"""The archivists' forms: each registers a record, or revises it, through its command."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.urls import reverse

from records import commands
from records.admin.command_form import CommandForm
from records.models import Claim, Property, Source, Subject
from records.models.projections import SubjectKind, ValueType
from records.values import PARTS_OF_MONTH

REASON_HELP = "Why this revision: it is kept with the change for good."
NAMES_HELP = (
    "One name per line, as <em>name | language</em> (a BCP 47 tag such as en, zh-Hant, ja, "
    "zh-Latn-pinyin). Start a line with * and a space to make it the label; otherwise the first "
    "name is."
)
BAD_NAME_LINE = "Line {number}: write the name, a |, then its language tag."


class TextareaField(forms.CharField):
    """Text typed in a textarea. Browsers send its line breaks as CRLF whatever was loaded, so
    they are turned back into LF: otherwise saving a source unchanged would move every offset
    that claims quote at."""

    widget = forms.Textarea

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


def _text(**options) -> forms.CharField:
    return forms.CharField(required=False, strip=False, **options)


def _textarea(rows: int, **options) -> TextareaField:
    return TextareaField(strip=False, widget=forms.Textarea(attrs={"rows": rows}), **options)


def _reason(form: CommandForm) -> None:
    """A revision needs a reason; a registration may have one."""
    form.fields["reason"].required = not form.is_new
    if form.is_new:
        form.fields["reason"].help_text = "Optional on registration."


class SourceForm(CommandForm):
    kind = "source"
    title = forms.CharField(max_length=500)
    author = _text()
    publisher = _text()
    published = _text(help_text="As the source gives it, e.g. 1942 or 1942-05.")
    url = _text(label="URL")
    archive_reference = _text()
    accessed = forms.DateField(required=False, help_text="YYYY-MM-DD")
    licence = _text()
    attribution = _text()
    full_text = _textarea(
        12, required=False, help_text="The text claims quote from. Quotes are checked against it."
    )
    reason = forms.CharField(required=False, help_text=REASON_HELP)

    class Meta:
        model = Source
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _reason(self)

    def values_of(self, record) -> dict:
        return {name: getattr(record, name) for name in Source.CONTENT_FIELDS}

    def run(self, data: dict):
        fields = {name: data[name] for name in Source.CONTENT_FIELDS}
        common = {"actor": self.actor, "reason": data["reason"], "event_id": data["event_id"]}
        if self.is_new:
            return commands.register_source(**fields, **common)
        return commands.revise_source(
            source_id=self.instance.pk,
            expected_version=data["expected_version"],
            **fields,
            **common,
        )


PRIMARY_MARK = "* "  # a star and a space: a name may itself begin with "*" ("*NSYNC")


def names_as_text(names: list[dict]) -> str:
    """One line a name. The label is marked only when it is not the first name, which is the
    label by default."""
    return "\n".join(
        f"{PRIMARY_MARK if name.get('primary') and index else ''}"
        f"{name['name']} | {name.get('language', 'und')}"
        for index, name in enumerate(names or ())
    )


def names_from_text(text: str) -> list[dict]:
    """The names as register_subject stores them, "primary" explicit, so that an untouched box
    compares equal to the stored names."""
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        line = line.strip()
        primary = line.startswith(PRIMARY_MARK)
        name, bar, language = line.removeprefix(PRIMARY_MARK).rpartition("|")
        if not bar:
            raise forms.ValidationError(BAD_NAME_LINE.format(number=number))
        names.append({"name": name.strip(), "language": language.strip(), "primary": primary})
    if names and not any(name["primary"] for name in names):
        names[0]["primary"] = True
    return names


class NamesField(TextareaField):
    widget = forms.Textarea(attrs={"rows": 5, "lang": "mul"})

    def prepare_value(self, value):
        return names_as_text(value) if isinstance(value, list) else value

    def to_python(self, value):
        return names_from_text(super().to_python(value) or "")


class SubjectForm(CommandForm):
    kind = "subject"
    error_fields = {"kind": "subject_kind"}
    subject_kind = forms.ChoiceField(label="Kind", choices=SubjectKind.choices)
    names = NamesField(help_text=NAMES_HELP)
    reason = forms.CharField(required=False, help_text=REASON_HELP)

    class Meta:
        model = Subject
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _reason(self)

    def values_of(self, record) -> dict:
        return {"subject_kind": record.kind, "names": record.names}

    def _show(self, error):
        # "names.0.name" and the like belong to the names box.
        if hasattr(error, "error_dict"):
            self.error_fields = {
                **self.error_fields,
                **{key: "names" for key in error.error_dict if key.startswith("names")},
            }
        super()._show(error)

    def run(self, data: dict):
        fields = {"kind": data["subject_kind"], "names": data["names"]}
        common = {"actor": self.actor, "reason": data["reason"], "event_id": data["event_id"]}
        if self.is_new:
            return commands.register_subject(**fields, **common)
        return commands.revise_subject(
            subject_id=self.instance.pk,
            expected_version=data["expected_version"],
            **fields,
            **common,
        )


class PropertyForm(CommandForm):
    """Properties are defined once and never revised: this form only adds."""

    kind = "property"
    key = forms.SlugField(help_text="Lower case, with hyphens: civilian-deaths.")
    label = forms.CharField()
    value_type = forms.ChoiceField(choices=ValueType.choices)
    unit = _text(help_text="Quantities only, e.g. people, km².")
    count = forms.BooleanField(required=False, help_text="Whole numbers, never negative.")
    multivalued = forms.BooleanField(
        required=False, help_text="A subject can have several true values at once."
    )
    reason = forms.CharField(required=False)

    class Meta:
        model = Property
        fields: list[str] = []

    def run(self, data: dict):
        return commands.define_property(
            key=data["key"],
            label=data["label"],
            value_type=data["value_type"],
            unit=data["unit"],
            count=data["count"],
            multivalued=data["multivalued"],
            reason=data["reason"],
            actor=self.actor,
            event_id=data["event_id"],
        )


def _autocomplete(field_name: str) -> AutocompleteSelect:
    return AutocompleteSelect(Claim._meta.get_field(field_name), admin.site)


class ClaimForm(CommandForm):
    kind = "claim"
    error_fields = {
        "subject_id": "subject",
        "property_id": "property",
        "value.original": "original",
        "value.best": "best",
        "value.lower": "lower",
        "value.upper": "upper",
        "value.unit": "unit",
        "value.approximate": "approximate",
        "value.edtf": "edtf",
        "value.part": "part",
        "value.text": "text",
        "value.subject_id": "subject_value",
        "value.type": "property",
        "value": "original",
        "citation": "quote",
        "citation.source_id": "source",
        "citation.locator": "locator",
        "citation.quote": "quote",
        "citation.start": "start",
        "citation.end": "end",
    }

    subject = forms.ModelChoiceField(Subject.objects.all(), widget=_autocomplete("subject"))
    property = forms.ModelChoiceField(Property.objects.all())
    original = forms.CharField(
        label="Original wording", help_text="The value in the source's words: 'about 250,000'."
    )
    best = _text(label="Best estimate", help_text="Quantities: a number.")
    lower = _text(label="Lower bound")
    upper = _text(label="Upper bound")
    approximate = forms.BooleanField(required=False, help_text="The source says 'about'.")
    unit = _text(help_text="Leave empty for the property's unit.")
    edtf = _text(label="EDTF date", help_text="Dates: 1942-09, 1942-05-15/1942-09-07, 1942?")
    part = forms.ChoiceField(
        required=False,
        choices=[("", "—")] + [(part, part) for part in PARTS_OF_MONTH],
        help_text="Dates: early (1–10), mid (11–20) or late (21–end) of the month.",
    )
    text = _text(label="Text value")
    subject_value = forms.ModelChoiceField(
        Subject.objects.all(), required=False, widget=_autocomplete("subject_value")
    )
    source = forms.ModelChoiceField(Source.objects.all(), widget=_autocomplete("source"))
    locator = _text(help_text="Page, paragraph or timestamp.")
    quote = _textarea(
        3, help_text="Paste the exact passage. Its place in the source's text is found for you."
    )
    start = forms.IntegerField(required=False, min_value=0, help_text="Found when left empty.")
    end = forms.IntegerField(required=False, min_value=0)
    attributed_to = _text(help_text="Whose estimate it is, if not the source's own.")
    note = _textarea(2, required=False)
    reason = forms.CharField(required=False, help_text=REASON_HELP)

    class Meta:
        model = Claim
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _reason(self)
        # The citation helper (records/static/records/citation_helper.js) asks here.
        self.fields["quote"].widget.attrs["data-check-url"] = reverse(
            "admin:records_claim_check_quote"
        )
        if not self.is_new:
            # The fact (subject, property) never changes: a different fact is a different claim.
            self.fields["subject"].disabled = self.fields["property"].disabled = True

    def values_of(self, claim) -> dict:
        value = claim.value
        return {
            "subject": claim.subject_id,
            "property": claim.property_id,
            "original": value.get("original"),
            "best": value.get("best"),
            # Bounds not given are stored as the best value: shown blank, so that changing
            # the best value alone does not fall outside the old "bounds".
            "lower": _bound(value, "lower"),
            "upper": _bound(value, "upper"),
            "approximate": value.get("approximate"),
            "unit": value.get("unit") if value.get("unit") != claim.property.unit else "",
            "edtf": value.get("edtf"),
            "part": value.get("part"),
            "text": value.get("text"),
            "subject_value": value.get("subject_id"),
            "source": claim.source_id,
            "locator": claim.locator,
            "quote": claim.quote,
            "start": claim.quote_start,
            "end": claim.quote_end,
            "attributed_to": claim.attributed_to,
            "note": claim.note,
        }

    def _value(self, data: dict, prop: Property) -> dict:
        value = {"original": data["original"]}
        if prop.value_type == ValueType.QUANTITY:
            value.update(
                {name: data[name] for name in ("best", "lower", "upper", "unit") if data[name]}
            )
            value["approximate"] = data["approximate"]
        elif prop.value_type == ValueType.DATE:
            value["edtf"] = data["edtf"]
            if data["part"]:
                value["part"] = data["part"]
        elif prop.value_type == ValueType.TEXT:
            value["text"] = data["text"]
        else:
            subject = data["subject_value"]
            value["subject_id"] = subject.pk if subject else None
        return value

    def run(self, data: dict):
        citation = {
            "source_id": data["source"].pk,
            "locator": data["locator"],
            "quote": data["quote"],
            "start": data["start"],
            "end": data["end"],
        }
        common = {
            "value": self._value(data, data["property"]),
            "citation": citation,
            "attributed_to": data["attributed_to"],
            "note": data["note"],
            "reason": data["reason"],
            "actor": self.actor,
            "event_id": data["event_id"],
        }
        if self.is_new:
            return commands.register_claim(
                subject_id=data["subject"].pk, property_id=data["property"].pk, **common
            )
        return commands.revise_claim(
            claim_id=self.instance.pk, expected_version=data["expected_version"], **common
        )


def _bound(value: dict, which: str):
    return None if value.get(which) == value.get("best") else value.get(which)
