"""The agency directory, kept by trust admins: a trust setting only the admin writes, so the plain
audited save (``TrustModelAdmin``). Signposts are written by their services and read on their pages."""

from django.contrib import admin

from signposting.models import Agency
from support.admin import TrustModelAdmin


@admin.register(Agency)
class AgencyAdmin(TrustModelAdmin):
    list_display = ["name", "safeguarding", "areas", "is_active"]
    list_filter = ["safeguarding", "is_active"]
    search_fields = ["name", "helps_with", "areas"]
    filter_horizontal = ["schools"]
    fieldsets = [
        (None, {"fields": ["name", "helps_with", "who_can_use", "areas", "schools", "is_active"]}),
        ("Contact and referral", {"fields": ["how_to_contact", "phone", "email", "website", "how_to_refer"]}),
        ("Safeguarding", {"fields": ["safeguarding"]}),
    ]
