"""The API of making the fund go further: donated uniform taken into stock, second-hand per school, and
each school's required branded items against the legal limit. Scoped as the pages are."""

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from support.dates import academic_year_bounds, academic_year_start_for
from support.models import School
from support.scopes import scope_for
from support.selectors import schools_visible_to
from uniform import selectors
from uniform.branded import branded_counts
from uniform.models import SECONDHAND_CHOICES
from uniform.services import stock as stock_services


class StockDonationSerializer(serializers.Serializer):
    item = serializers.PrimaryKeyRelatedField(
        queryset=selectors.uniform_items_visible_to(None), help_text="One of your schools' items."
    )
    size = serializers.CharField(
        max_length=30, allow_blank=True, default="", help_text="One of the item's sizes."
    )
    condition = serializers.ChoiceField(choices=SECONDHAND_CHOICES)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)
    note = serializers.CharField(max_length=300, allow_blank=True, default="")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent while the OpenAPI schema is generated
        self.fields["item"].queryset = selectors.uniform_items_visible_to(request.user if request else None)


class DonationResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    size = serializers.CharField()
    condition = serializers.CharField()
    change = serializers.IntegerField()


class SecondhandSchoolSerializer(serializers.Serializer):
    school = serializers.IntegerField(source="school.pk")
    school_name = serializers.CharField(source="school.name")
    in_stock = serializers.IntegerField(help_text="Second-hand items in stock now.")
    given = serializers.IntegerField(help_text="Second-hand items given out this academic year.")
    saved_pence = serializers.IntegerField(help_text="What they would have cost new: the fund paid nothing.")


class BrandedSchoolSerializer(serializers.Serializer):
    school = serializers.IntegerField(source="school.pk")
    school_name = serializers.CharField(source="school.name")
    items = serializers.ListField(child=serializers.CharField(), help_text="Required branded items.")
    count = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="3, or 4 at a secondary school when one is a tie.")
    over = serializers.BooleanField()


class StockDonationViewSet(viewsets.ViewSet):
    """Donated second-hand uniform taken into a school's stock, at no cost to the fund."""

    permission = "uniform.stock"

    @extend_schema(request=StockDonationSerializer, responses={201: DonationResultSerializer})
    def create(self, request: Request) -> Response:
        body = StockDonationSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        movement = stock_services.stock_donation_receive(actor=request.user, **body.validated_data)
        result = {
            "id": movement.pk,
            "item": movement.item_id,
            "size": movement.size,
            "condition": movement.condition,
            "change": movement.change,
        }
        return Response(DonationResultSerializer(result).data, status=status.HTTP_201_CREATED)


class SecondhandViewSet(viewsets.ViewSet):
    """Per school you see: second-hand uniform in stock, given out this academic year, and what it saved."""

    permission = "uniform.view"

    def get_queryset(self) -> QuerySet[School]:
        """The schools the caller sees (the rows), with no filters of their own."""
        return schools_visible_to(self.request.user).filter(is_active=True).order_by("name")

    @extend_schema(responses={200: SecondhandSchoolSerializer(many=True)})
    def list(self, request: Request) -> Response:
        today = timezone.localdate()
        start, _end = academic_year_bounds(academic_year_start_for(today))
        rows = selectors.secondhand_by_school(request.user, start=start, end=today)
        return Response(SecondhandSchoolSerializer(rows, many=True).data)


class BrandedItemsViewSet(viewsets.ViewSet):
    """Each school's required branded items against the legal limit: a lead's schools, every school for a
    trust admin."""

    permission = "uniform.branded"

    def get_queryset(self) -> QuerySet[School]:
        """A lead's own schools; every school for a trust admin."""
        scope = scope_for(self.request.user)
        schools = schools_visible_to(self.request.user).filter(is_active=True).order_by("name")
        return schools if scope.is_admin else schools.filter(pk__in=scope.lead_school_ids)

    @extend_schema(responses={200: BrandedSchoolSerializer(many=True)})
    def list(self, request: Request) -> Response:
        return Response(BrandedSchoolSerializer(branded_counts(self.get_queryset()), many=True).data)


router = SimpleRouter()
router.register("stock-donations", StockDonationViewSet, basename="stock-donation")
router.register("secondhand-schools", SecondhandViewSet, basename="secondhand-school")
router.register("branded-items", BrandedItemsViewSet, basename="branded-item")

urlpatterns = router.urls
