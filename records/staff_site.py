"""The staff admin site: Django's, plus each user's work on the index and the review queue.

It is installed as the default admin site (``StrataAdminConfig`` in INSTALLED_APPS), so
``admin.site`` and ``@admin.register`` everywhere mean this one.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path


class StrataAdminSite(admin.AdminSite):
    site_header = "Strata archive"
    site_title = "Strata"
    index_title = "Records"

    def index(self, request, extra_context=None):
        from records import staff
        from records.models.projections import Status
        from records.workflow import AUTHOR, REVIEW

        extra_context = extra_context or {}
        if request.user.has_perm(REVIEW):
            extra_context["queue_count"] = len(staff.awaiting(request.user))
        if request.user.has_perm(AUTHOR):
            extra_context["my_drafts"] = staff.my_work(request.user, Status.DRAFT)
            extra_context["my_changes_requested"] = staff.my_work(
                request.user, Status.CHANGES_REQUESTED
            )
        return super().index(request, extra_context)

    def get_urls(self):
        return [
            path("review-queue/", self.admin_view(self.review_queue), name="review_queue"),
            *super().get_urls(),
        ]

    def review_queue(self, request):
        from records import staff
        from records.workflow import REVIEW

        # Drafts under review are for reviewers' eyes: staff without the role see nothing.
        if not request.user.has_perm(REVIEW):
            raise PermissionDenied
        context = {
            **self.each_context(request),
            "title": "Review queue",
            "pending": staff.review_queue(request.user),
        }
        return TemplateResponse(request, "admin/records/review_queue.html", context)


class StrataAdminConfig(AdminConfig):
    default_site = "records.staff_site.StrataAdminSite"
