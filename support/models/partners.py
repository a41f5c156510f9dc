from django.db import models


class Service(models.TextChoices):
    FOOD_PARCEL = "food_parcel", "Food parcel"
    WHITE_GOODS = "white_goods", "White goods"
    FURNITURE = "furniture", "Furniture"
    CLOTHING = "clothing", "Clothing"
    BABY_ITEMS = "baby_items", "Baby items"
    ENERGY = "energy", "Energy top-up"


class PartnerCharity(models.Model):
    """A charity that redeems the trust's vouchers at its counter."""

    name = models.CharField(max_length=120, unique=True)
    address = models.TextField(max_length=500)
    postcode = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    opening_times = models.TextField(
        blank=True, max_length=500, help_text="As printed on vouchers, e.g. 'Mon–Fri 10:00–15:00'."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "partner charities"

    def __str__(self) -> str:
        return self.name


class PartnerService(models.Model):
    """A service a partner offers (food parcels, white goods, furniture, ...)."""

    partner = models.ForeignKey(PartnerCharity, on_delete=models.CASCADE, related_name="services")
    service = models.CharField(max_length=20, choices=Service.choices)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["partner", "service"]
        constraints = [models.UniqueConstraint(fields=["partner", "service"], name="partner_service_once")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.get_service_display()}"
