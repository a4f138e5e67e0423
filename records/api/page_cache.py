"""Public pages kept until the log moves: a page is a function of its URL and the log.

Every public answer is computed from the read models, and the read models change only when an
event is appended. So a rendered page can be served again, byte for byte, to any request for
the same URL (scheme, host and query string: links in a page are absolute) and the same format,
for as long as the log ends with the event it ended with when the page was rendered. The key
holds that event's hash, so an append makes every older page unreachable and nothing needs
invalidating; the hash, not the position, so that a database restored to an earlier log and
grown again differently cannot be mistaken for the one a page was rendered from.

Reading the last event's hash is one index lookup; serialising and rendering a page of facts with
their claims takes tens of milliseconds. The cache is Django's ``api_pages`` cache (local
memory, per worker process; ``API_PAGE_CACHE_ENTRIES`` pages at most, ``0`` turns it off).
Throttling and the checks on parameters run before it, so a cached page is refused like any.
"""

from __future__ import annotations

import hashlib

from django.core.cache import caches
from django.http import HttpResponse

from records.models import StoredEvent

CACHE = "api_pages"


def _log_head() -> str:
    return StoredEvent.objects.order_by("-position").values_list("hash", flat=True).first() or ""


def key_for(request) -> str:
    url = request.build_absolute_uri()
    renderer = request.accepted_renderer
    what = f"{_log_head()} {renderer.format} {request.accepted_media_type} {url}"
    return "page:" + hashlib.sha256(what.encode()).hexdigest()


def stored(key: str) -> HttpResponse | None:
    page = caches[CACHE].get(key)
    if page is None:
        return None
    content, headers = page
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    return response


def keep_when_rendered(response, key: str) -> None:
    """Store the page once it is rendered, if it is a whole, successful answer."""

    def keep(rendered):
        if rendered.status_code == 200 and not rendered.streaming:
            caches[CACHE].set(key, (rendered.content, list(rendered.items())))

    response.add_post_render_callback(keep)
