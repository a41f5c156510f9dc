"""Pages of a list that count in the same query as the page (``COUNT(*) OVER ()``).

Django's ``Paginator`` runs the list's query twice: once to count, once for the page. For a search
whose cost is its filter (trigram candidates, then the user's scope), that pays for the filter twice.
``CountOncePaginator`` asks for the page with the total beside each row; only a page past the end, or
an empty one after the first, costs a second, plain count. The web lists and the API (``CountOncePagination``)
share it.
"""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from rest_framework.pagination import PageNumberPagination

TOTAL = "paging_total"


class CountOncePaginator(Paginator):
    def page(self, number) -> Page:  # type: ignore[no-untyped-def]
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        bottom = (number - 1) * self.per_page
        rows = list(
            self.object_list.annotate(**{TOTAL: Window(Count("pk"))})[bottom : bottom + self.per_page]
        )
        if rows:
            first = rows[0]
            self.__dict__["count"] = first[TOTAL] if isinstance(first, dict) else getattr(first, TOTAL)
        elif number == 1:
            self.__dict__["count"] = 0
        number = self.validate_number(number)  # past the end: a plain count, then EmptyPage
        return self._get_page(rows, number, self)


class CountOncePagination(PageNumberPagination):
    """The API's page-number pagination (same answer shape), counting in the page's query."""

    django_paginator_class = CountOncePaginator
