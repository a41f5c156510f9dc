import ctypes.util

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register()
def harfbuzz_subset_check(app_configs, **kwargs):
    """WeasyPrint subsets fonts six times faster with HarfBuzz's subset library than with fontTools."""
    if ctypes.util.find_library("harfbuzz-subset"):
        return []
    return [
        CheckWarning(
            "libharfbuzz-subset is not installed: PDFs will render several times slower.",
            hint="Install the Debian package libharfbuzz-subset0 (make setup does this).",
            id="support.W001",
        )
    ]


@register()
def shared_cache_check(app_configs, **kwargs):
    """With real workers, print jobs, lookup counters and cached PDFs must live in a cache they share."""
    if settings.CELERY_TASK_ALWAYS_EAGER or "locmem" not in settings.CACHES["default"]["BACKEND"]:
        return []
    return [
        CheckWarning(
            "CELERY_BROKER_URL is set but the cache is per-process memory: workers and web processes "
            "will not see each other's print jobs, and code-lookup lockouts are per process.",
            hint="Set REDIS_URL.",
            id="support.W002",
        )
    ]
