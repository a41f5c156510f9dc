"""Pages of a long list that count once, or count less.

Django's ``Paginator`` runs a list's query twice, once to count and once for the page, and counts
every row. On the family list at 100,000 families that is most of the page's time. ``ListPaginator``:

- a search ranked best match first (its queryset carries ``RANKED``, ``support.search``) must score every
  candidate to find the best anyway, so its page carries the total beside each row
  (``COUNT(*) OVER ()``): the filter is paid for once. A ranking that can take its own page
  (``page_of``: the names search on PostgreSQL ranks and counts in its names table) is asked first;
- any other list walks its sort order to the page (an index can stop after a page of rows) and counts at
  most ``COUNT_CAP`` rows: a page says "more than 1,000" rather than scanning every row to say 8,931.
  Paging on past the cap still works (``Next`` is there while rows follow).

The web lists and the API (``ListPagination``, the same answer shape; its ``count`` stops at the cap
too) share it.
"""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination

TOTAL = "paging_total"
# An annotation a ranked search adds (``support.search.family_search_apply``).
RANKED = "match_score"
COUNT_CAP = 1000
MAX_PAGE = 10**9


class ListPage(Page):
    """A page that knows whether rows follow it, even past the counted ones."""

    def __init__(self, object_list, number, paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        if not self.more:
            raise EmptyPage("That page contains no results")
        return self.number + 1

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class ListPaginator(Paginator):
    count_is_capped = False

    def _ranked(self) -> bool:
        return isinstance(self.object_list, QuerySet) and RANKED in self.object_list.query.annotations

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        counted = self.object_list.order_by().values("pk")[: COUNT_CAP + 1].count()
        if counted > COUNT_CAP:
            self.count_is_capped = True
            return COUNT_CAP
        return counted

    def _ranked_page(self, bottom: int) -> tuple[list, int | None]:
        """A ranked search's rows from ``bottom`` and its total (None: not known from this page). The
        ranking may take its page itself (``page_of``: ``support.search.NameRanking``, in the names
        table alone); otherwise the page's query counts every row beside each one."""
        ranking = self.object_list.query.annotations[RANKED]
        page_of = getattr(ranking, "page_of", None)
        paged = page_of(self.object_list, bottom, self.per_page) if page_of is not None else None
        if paged is not None:
            return paged
        counted = self.object_list.annotate(**{TOTAL: Window(Count("pk"))})
        rows = list(counted[bottom : bottom + self.per_page])
        if not rows:
            return rows, (0 if bottom == 0 else None)
        first = rows[0]
        return rows, first[TOTAL] if isinstance(first, dict) else getattr(first, TOTAL)

    def page(self, number) -> Page:  # type: ignore[no-untyped-def]
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        if number > MAX_PAGE:  # past any list, and an OFFSET the database could not hold
            raise EmptyPage("That page contains no results")
        bottom = (number - 1) * self.per_page
        if self._ranked():
            rows, total = self._ranked_page(bottom)
            if total is not None:
                self.__dict__["count"] = total
            number = self.validate_number(number)  # past the end: a plain count, then EmptyPage
            return ListPage(rows, number, self, more=bottom + len(rows) < self.count)
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        if rows and not more and number <= COUNT_CAP // self.per_page:
            # The last page, within the cap: the count is known without asking.
            self.__dict__["count"] = bottom + len(rows)
        return ListPage(rows, number, self, more=more)

    def get_page(self, number) -> Page:  # type: ignore[no-untyped-def]
        try:
            number = self.validate_number(number) if not isinstance(self.object_list, QuerySet) else number
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(max(self.num_pages, 1))


class ListPagination(PageNumberPagination):
    """The API's page-number pagination (same answer shape), with ``ListPaginator``'s counting."""

    django_paginator_class = ListPaginator


# A search's page: the web family list's size. Someone searching reads the best matches first, and
# each family on the page costs its serializing (pupils, consents): half the page, half that cost.
SEARCH_PAGE_SIZE = 25


class SearchListPagination(ListPagination):
    """``ListPagination``, with ``SEARCH_PAGE_SIZE`` rows a page when the list is searched (``q``)."""

    def get_page_size(self, request) -> int | None:  # type: ignore[no-untyped-def]
        if request.query_params.get("q", "").strip():
            return SEARCH_PAGE_SIZE
        return super().get_page_size(request)
