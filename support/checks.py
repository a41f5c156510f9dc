import ctypes.util

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
