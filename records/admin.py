"""The staff admin. For now it shows the archive read-only, with every record's history; editing
through the commands (forms, review buttons) comes with the admin issue. Nothing here writes a
model directly: every add, change and delete permission is refused, superusers included."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from records.models import Claim, Fact, Property, ReviewComment, Source, StoredEvent, Subject


class ReadOnly:
    """No admin page may write a read model or the log: changes go through the commands."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class ReviewedAdmin(ReadOnly, SimpleHistoryAdmin):
    list_filter = ["status"]
    readonly_fields = ["status", "status_reason", "status_changed_by", "status_changed_at"]


@admin.register(Source)
class SourceAdmin(ReviewedAdmin):
    list_display = ["title", "status", "revision", "published_revision", "licence", "updated_at"]
    search_fields = ["title", "author", "publisher", "archive_reference"]


@admin.register(Subject)
class SubjectAdmin(ReviewedAdmin):
    list_display = ["label", "kind", "status", "revision", "published_revision"]
    list_filter = ["status", "kind"]
    # Every name and alias, in any script, is in search_text.
    search_fields = ["search_text"]


@admin.register(Property)
class PropertyAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["key", "label", "value_type", "unit", "count", "multivalued"]
    search_fields = ["key", "label"]


@admin.register(Fact)
class FactAdmin(ReadOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "registered_at"]
    search_fields = ["subject__search_text", "property__label"]
    list_select_related = ["subject", "property"]


@admin.register(Claim)
class ClaimAdmin(ReviewedAdmin):
    list_display = ["original_wording", "fact", "attributed_to", "status", "rank", "revision"]
    list_filter = ["status", "rank", "value_type"]
    search_fields = ["original_wording", "quote", "attributed_to", "subject__search_text"]
    list_select_related = ["fact__subject", "fact__property"]


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
