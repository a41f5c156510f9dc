"""The support core's API. Querysets from selectors, writes through services, permission declared."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from support import consents, safeguarding, selectors, services
from support.api.serializers import (
    ConsentSerializer,
    FamilySerializer,
    PartnerSerializer,
    PupilInNeedSerializer,
    PupilSerializer,
    SafeguardingReferralCreateSerializer,
    SafeguardingReferralSerializer,
    SchoolSerializer,
)
from support.filters import FamilyFilterSet
from support.models import FamilyConsent, Pupil
from support.paging import SearchListPagination


class SchoolViewSet(viewsets.ReadOnlyModelViewSet):
    permission = "schools.view"
    serializer_class = SchoolSerializer
    filterset_fields = ["phase", "is_active"]
    search_fields = ["name", "urn"]

    def get_queryset(self):
        return selectors.schools_visible_to(self.request.user)


class PartnerViewSet(viewsets.ReadOnlyModelViewSet):
    permission = "partners.view"
    serializer_class = PartnerSerializer
    search_fields = ["name"]

    def get_queryset(self):
        return selectors.partners_visible_to(self.request.user).prefetch_related("services")


# Where a family's consents are cached as if prefetched: ``family.consents.all()`` answers from it.
CONSENTS_CACHE = FamilyConsent._meta.get_field("family").remote_field.cache_name


def _cached(model, rows: list) -> QuerySet:
    """A queryset already holding ``rows``, as Django's prefetch leaves one in a related manager."""
    queryset = QuerySet(model=model)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


class FamilyViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    permissions = {
        "list": "families.view",
        "retrieve": "families.view",
        "update": "families.edit",
        "partial_update": "families.edit",
        "consent": "families.edit",
    }
    serializer_class = FamilySerializer
    # The web family list's filter set too (support.filters): same query, same families, same order.
    filterset_class = FamilyFilterSet
    pagination_class = SearchListPagination
    ordering_fields = ["carer_sort_key", "lead_carer_name", "postcode", "id"]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        families = selectors.families_visible_to(self.request.user).filter(merged_into__isnull=True)
        if self.action != "list":  # a list page gets its pupils and consents in paginate_queryset
            pupils = selectors.pupils_visible_to(self.request.user).order_by("year_group", "pk")
            families = families.prefetch_related(
                Prefetch("pupils", queryset=pupils, to_attr="visible_pupils"),
                Prefetch("consents", queryset=consents.consents_listed()),
            )
        return families.order_by("carer_sort_key", "pk")

    def list(self, request: Request, *args, **kwargs) -> Response:
        # As DRF's list, each family answered from fields bound once per role set
        # (FamilySerializer.represent_objects): building a page's serializers was a third of a search's
        # CPU. A test holds the answer equal to the serializer's for every role. (A comment, not a
        # docstring: the schema would take a docstring as the operation's description.)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        if page is None:
            return super().list(request, *args, **kwargs)
        return self.get_paginated_response(FamilySerializer.represent_objects(page, user=request.user))

    def paginate_queryset(self, queryset):  # type: ignore[no-untyped-def]
        """The page, then its families' pupils and consents, each from one query compiled once (the same
        rows and order as the detail's prefetches: ``selectors.family_page_pupils``,
        ``consents.families_consents_listed``)."""
        page = super().paginate_queryset(queryset)
        if page is None:
            return page
        ids = [family.pk for family in page]
        pupils = selectors.family_page_pupils(self.request.user, ids)
        listed = consents.families_consents_listed(ids)
        for family in page:
            family.visible_pupils = pupils[family.pk]
            family._prefetched_objects_cache = {**getattr(family, "_prefetched_objects_cache", {})}
            family._prefetched_objects_cache[CONSENTS_CACHE] = _cached(FamilyConsent, listed[family.pk])
        return page

    def perform_update(self, serializer: FamilySerializer) -> None:
        family = services.family_update(
            family=serializer.instance, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=family.pk)

    @extend_schema(request=ConsentSerializer, responses=FamilySerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request: Request, pk: str | None = None, **kwargs) -> Response:
        family = self.get_object()
        body = ConsentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["given"]:
            consents.family_consent_record(
                family=family,
                partner=data["partner"],
                actor=request.user,
                method=data.get("method", ""),
                given_on=data.get("date"),
            )
        else:
            consents.family_consent_withdraw(
                family=family, partner=data["partner"], actor=request.user, withdrawn_on=data.get("date")
            )
        return Response(self.get_serializer(self.get_queryset().get(pk=family.pk)).data)


class PupilViewSet(viewsets.ReadOnlyModelViewSet):
    permissions = {
        "list": "pupils.view",
        "retrieve": "pupils.view",
        "in_need": "pupils.flag_need",
        "safeguarding_referral": "pupils.safeguarding",
    }
    serializer_class = PupilSerializer
    filterset_fields = ["school", "year_group", "fsm", "pupil_premium", "in_need", "family"]
    search_fields = ["upn", "legal_forename", "preferred_forename", "surname"]
    ordering_fields = ["surname", "year_group", "id"]

    def get_queryset(self):
        return (
            selectors.pupils_visible_to(self.request.user).select_related("school").order_by("surname", "pk")
        )

    @extend_schema(request=PupilInNeedSerializer, responses=PupilSerializer)
    @action(detail=True, methods=["post"], url_path="in-need")
    def in_need(self, request: Request, pk: str | None = None, **kwargs) -> Response:
        pupil: Pupil = self.get_object()
        body = PupilInNeedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.pupil_set_in_need(pupil=pupil, actor=request.user, **body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=pupil.pk)).data)

    @extend_schema(
        request=SafeguardingReferralCreateSerializer, responses={201: SafeguardingReferralSerializer}
    )
    @action(detail=True, methods=["post"], url_path="safeguarding-referral")
    def safeguarding_referral(self, request: Request, pk: str | None = None, **kwargs) -> Response:
        """Record that you passed a possible concern about this pupil to the school's safeguarding lead.

        Only staff of the pupil's own school; the concern itself is never sent or stored here."""
        pupil = get_object_or_404(safeguarding.safeguarding_pupils_of(request.user), pk=pk)
        body = SafeguardingReferralCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        referral = safeguarding.safeguarding_referral_record(
            pupil=pupil, actor=request.user, lead_kind=body.validated_data["lead_kind"]
        )
        return Response(
            SafeguardingReferralSerializer(referral, context={"request": request}).data, status=201
        )
