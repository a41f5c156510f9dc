"""The impact report's pages (impact/web.py), mounted at the site root by config/urls.py."""

from impact import web

urlpatterns = web.urlpatterns
