"""The review buttons on a record's page and in the review queue: each calls one command."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from records import commands
from records.event_store import ConcurrencyError
from records.workflow import WorkflowError

UNKNOWN_ACTION = "Unknown review action {action!r}."
MOVED_ON = "This record changed while you were deciding; look at it again, then decide."
DONE = {
    "submit": "Submitted for review.",
    "withdraw": "Withdrawn from review; it is a draft again.",
    "approve": "Approved: revision {revision} is now public.",
    "request_changes": "Changes requested; the archivists see your comment.",
    "reject": "Rejected.",
    "comment": "Comment added.",
    "retract": "Retracted; the public sees it as retracted, with your reason.",
    "rank": "Rank set.",
}


def _run(action: str, kind: str, record_id, post, actor):
    """Call the command behind ``action``; the form's fields are its arguments."""
    target = {
        "record_type": kind,
        "record_id": record_id,
        "actor": actor,
        "event_id": _uuid(post.get("event_id")),
    }
    decision = {
        **target,
        "revision": _whole(post.get("revision")),
        "comment": post.get("comment", ""),
    }
    if action == "submit":
        return commands.submit_for_review(**target)
    if action == "withdraw":
        return commands.withdraw_submission(**target)
    if action == "approve":
        return commands.approve_revision(**decision)
    if action == "request_changes":
        return commands.request_changes(**decision)
    if action == "reject":
        return commands.reject_revision(**decision)
    if action == "comment":
        return commands.add_review_comment(**target, text=post.get("comment", ""))
    claim = {"claim_id": record_id, "reason": post.get("reason", ""), "actor": actor}
    if action == "retract":
        return commands.retract_claim(**claim, event_id=target["event_id"])
    if action == "rank":
        return commands.rank_claim(**claim, rank=post.get("rank", ""), event_id=target["event_id"])
    raise ValidationError({"action": [UNKNOWN_ACTION.format(action=action)]})


def _whole(text) -> int | None:
    """The revision a decision names; a garbled one is left to the command to refuse."""
    return int(text) if text and text.isascii() and text.isdigit() else None


def _uuid(text) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _describe(error: ValidationError) -> str:
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return " ".join(
        f"{'' if field == '__all__' else field + ': '}{message}"
        for field, field_messages in error.message_dict.items()
        for message in field_messages
    )


class ReviewActions:
    """Adds ``<id>/review/`` to a ModelAdmin of a reviewable record (``review_kind``)."""

    review_kind = ""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="{}_{}_review".format(*info),
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        action = request.POST.get("action", "")
        try:
            record = _run(action, self.review_kind, object_id, request.POST, request.user)
        except ValidationError as error:
            messages.error(request, _describe(error))
        except WorkflowError as error:
            messages.error(request, error.message)
        except ConcurrencyError:
            messages.error(request, MOVED_ON)
        else:
            messages.success(request, DONE[action].format(revision=record.published_revision))
        return HttpResponseRedirect(self._back(request, object_id))

    def _back(self, request, object_id) -> str:
        wanted = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
            return wanted
        info = self.opts.app_label, self.opts.model_name
        return reverse("admin:{}_{}_change".format(*info), args=[object_id])
