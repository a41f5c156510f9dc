"""Short guides for each task, one Markdown file each in ``docs/guides/``, linked from the header of the
task's pages ("Help with this page") and served here, so the words people read beside the page are the
ones kept with the code. Feature apps register their guides (``support.registry.register_guide``)."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from support import registry
from support.permissions import has_perm

GUIDES_DIR = Path(settings.BASE_DIR) / "docs" / "guides"

# Markdown's plain tags, given the GOV.UK classes the rest of the site uses. Raw HTML in a guide is
# not rendered ("html": False), so these are the only tags the page can hold.
_CLASSES = {
    "<h1>": '<h1 class="govuk-heading-l">',
    "<h2>": '<h2 class="govuk-heading-m">',
    "<h3>": '<h3 class="govuk-heading-s">',
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<a href=": '<a class="govuk-link" href=',
}


def guide_path(slug: str) -> Path:
    return GUIDES_DIR / f"{slug}.md"


@lru_cache(maxsize=32)
def _render(slug: str, mtime: float) -> str:
    html = MarkdownIt("commonmark", {"html": False}).render(guide_path(slug).read_text(encoding="utf-8"))
    for tag, with_class in _CLASSES.items():
        html = html.replace(tag, with_class)
    return html


def guide_html(slug: str) -> str:
    path = guide_path(slug)
    return _render(slug, path.stat().st_mtime)


def guide_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A registered guide for a user holding its permission; any other slug is a 404 (as a guide the
    user may not read, so the answer does not say which tasks exist)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    guide = registry.guide(slug)
    if guide is None or (guide.permission is not None and not has_perm(request.user, guide.permission)):
        raise Http404
    if not guide_path(slug).is_file():
        raise Http404
    return render(
        request,
        "support/guide.html",
        {"guide": guide, "body": mark_safe(guide_html(slug))},  # noqa: S308
    )
