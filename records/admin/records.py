"""The model admins. Archivists add and change sources, subjects, properties and claims through
command forms; everyone with a role sees every record's events, history and review panel. No
admin deletes anything, and the event log and review comments are read-only for everyone."""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from records import staff
from records.admin import forms
from records.admin.review import ReviewActions
from records.event_store import read_stream
from records.models import Claim, Fact, Property, ReviewComment, Source, StoredEvent, Subject
from records.models.projections import Rank, Status
from records.workflow import AUTHOR, COMMENT, REVIEW


class ReadOnly:
    """Pages that show, and never write: the log and its derived tables."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CommandAdmin(SimpleHistoryAdmin):
    """An admin whose form saves through a command (``form``: a CommandForm). Archivists may add
    and change; nobody deletes. Those who may not change see ``view_fields``, read-only."""

    change_form_template = "admin/records/change_form.html"
    view_fields: list[str] = []

    def has_add_permission(self, request):
        return request.user.has_perm(AUTHOR)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(AUTHOR)

    def has_delete_permission(self, request, obj=None):
        return False

    # The form's fields in groups, for forms long enough to need them; None: one group.
    edit_fieldsets = None

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.view_fields
        return list(self.form.base_fields)

    def get_fieldsets(self, request, obj=None):
        editing = obj is None or self.has_change_permission(request, obj)
        if editing and self.edit_fieldsets:
            return self.edit_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The acting user is always explicit in a command; the form learns it here.
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        """The form's command already stored the events and projected them."""

    # The event log records who changed what, when and why; the admin's own LogEntry table
    # would be a second, weaker copy (and one that could be edited).
    def log_addition(self, request, obj, message):
        pass

    def log_change(self, request, obj, message):
        pass

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """A past revision can be looked at; reverting to it would bypass the commands."""
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.panels(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def panels(self, request, object_id) -> dict:
        """What the change page shows below the form: the record's own events."""
        record = self.get_object(request, object_id)
        return {"events": read_stream(record.pk) if record else []}


class ReviewedAdmin(ReviewActions, CommandAdmin):
    list_filter = ["status"]
    readonly_fields = ["status", "status_reason", "status_changed_by", "status_changed_at"]

    def panels(self, request, object_id) -> dict:
        record = self.get_object(request, object_id)
        if record is None:
            return {}
        user = request.user
        return {
            **super().panels(request, object_id),
            "review_kind": self.review_kind,
            "record": record,
            "changes": staff.changes_from_published(self.review_kind, record),
            "comments": ReviewComment.objects.filter(record_id=record.pk).select_related("author"),
            "can_author": user.has_perm(AUTHOR),
            "can_review": user.has_perm(REVIEW),
            "can_comment": user.has_perm(COMMENT),
            "ranks": Rank.values,
            "Status": Status,
        }


@admin.register(Source)
class SourceAdmin(ReviewedAdmin):
    form = forms.SourceForm
    review_kind = "source"
    list_display = ["title", "status", "revision", "published_revision", "licence", "updated_at"]
    search_fields = ["title", "author", "publisher", "archive_reference"]
    view_fields = [*Source.CONTENT_FIELDS, *ReviewedAdmin.readonly_fields]


@admin.register(Subject)
class SubjectAdmin(ReviewedAdmin):
    form = forms.SubjectForm
    review_kind = "subject"
    list_display = ["label", "kind", "status", "revision", "published_revision"]
    list_filter = ["status", "kind"]
    # Every name and alias, in any script, is in search_text.
    search_fields = ["search_text"]
    view_fields = ["kind", "label", "every_name", *ReviewedAdmin.readonly_fields]

    @admin.display(description="names")
    def every_name(self, subject):
        return format_html_join(
            mark_safe("<br>"),
            '<span lang="{}">{}</span> ({})',
            (
                (name.get("language", "und"), name["name"], name.get("language", "und"))
                for name in subject.names
            ),
        )


@admin.register(Property)
class PropertyAdmin(CommandAdmin):
    form = forms.PropertyForm
    list_display = ["key", "label", "value_type", "unit", "count", "multivalued"]
    search_fields = ["key", "label"]
    view_fields = ["key", "label", "value_type", "unit", "count", "multivalued"]

    def has_change_permission(self, request, obj=None):
        return False  # vocabulary is defined once: a changed meaning would rewrite claims


@admin.register(Claim)
class ClaimAdmin(ReviewedAdmin):
    form = forms.ClaimForm
    review_kind = "claim"
    list_display = ["original_wording", "fact", "attributed_to", "status", "rank", "revision"]
    list_filter = ["status", "rank", "value_type"]
    search_fields = ["original_wording", "quote", "attributed_to", "subject__search_text"]
    list_select_related = ["fact__subject", "fact__property"]
    view_fields = [
        "subject",
        "property",
        "original_wording",
        "value",
        "source",
        "locator",
        "quote",
        "attributed_to",
        "note",
        "rank",
        "rank_reason",
        *ReviewedAdmin.readonly_fields,
    ]

    edit_fieldsets = [
        ("Fact", {"fields": ["subject", "property"]}),
        ("Value", {"fields": ["original"]}),
        (
            "Quantity",
            {
                "fields": [("best", "approximate"), ("lower", "upper"), "unit"],
                "description": "For properties whose values are quantities.",
            },
        ),
        ("Date", {"fields": [("edtf", "part")], "description": "For date properties."}),
        (
            "Text or subject",
            {
                "fields": ["text", "subject_value"],
                "description": "For text properties, or properties whose value is a subject.",
            },
        ),
        ("Citation", {"fields": ["source", "locator", "quote", ("start", "end")]}),
        ("Attribution", {"fields": ["attributed_to", "note", "reason"]}),
        (None, {"fields": ["expected_version", "event_id"]}),
    ]

    class Media:
        js = ["records/citation_helper.js"]
        css = {"all": ["records/staff.css"]}

    def get_urls(self):
        return [
            path(
                "check-quote/",
                self.admin_site.admin_view(self.check_quote_view),
                name="records_claim_check_quote",
            ),
            *super().get_urls(),
        ]

    def check_quote_view(self, request):
        """The citation helper: where the quote stands in the chosen source, as JSON. For those
        who write claims: it shows a draft source's text."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        source = get_object_or_404(Source, pk=_uuid_or_404(request.GET.get("source")))
        check = staff.check_quote(
            source,
            request.GET.get("quote", ""),
            _offset(request.GET.get("start")),
            _offset(request.GET.get("end")),
        )
        return JsonResponse(check.__dict__)


def _offset(text) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() else None


def _uuid_or_404(text) -> uuid.UUID:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise Http404 from None


@admin.register(Fact)
class FactAdmin(ReadOnly, SimpleHistoryAdmin):
    """A fact's page is the conflicting-estimates view: its claims side by side."""

    list_display = ["__str__", "registered_at"]
    search_fields = ["subject__search_text", "property__label"]
    list_select_related = ["subject", "property"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Drafts are shown here: only for those who may read every claim.
        if not (self.has_view_permission(request) and request.user.has_perm("records.view_claim")):
            raise PermissionDenied
        fact = get_object_or_404(
            Fact.objects.select_related("subject", "property"), pk=_uuid_or_404(object_id)
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(fact),
            "fact": fact,
            "bars": staff.claims_side_by_side(fact),
            "can_author": request.user.has_perm(AUTHOR),
        }
        return TemplateResponse(request, "admin/records/fact_page.html", context)


@admin.register(StoredEvent)
class StoredEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "position",
        "event_type",
        "stream_type",
        "stream_id",
        "version",
        "actor",
        "recorded_at",
    ]
    list_filter = ["event_type", "stream_type"]
    search_fields = ["stream_id", "event_type"]
    ordering = ["-position"]

    @admin.display(description="actor")
    def actor(self, event):
        return event.metadata.get("actor")


@admin.register(ReviewComment)
class ReviewCommentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "position",
        "record_type",
        "record_id",
        "revision",
        "kind",
        "author",
        "created_at",
    ]
    list_filter = ["kind", "record_type"]
