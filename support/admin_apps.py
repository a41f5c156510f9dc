from django.contrib.admin.apps import AdminConfig


class TrustAdminConfig(AdminConfig):
    default_site = "support.admin_site.TrustAdminSite"
