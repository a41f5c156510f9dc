"""What the core learns about the impact report (see support.registry), and the kinds of support it
counts (impact.registry) from the vouchers and uniform apps' selectors."""

from impact import registry as kinds
from support import registry
from support.models import Role, Service
from uniform.models import ItemKind
from uniform.selectors import gift_support_events, request_support_events
from vouchers.selectors import voucher_support_events

READERS = frozenset({Role.FINANCE, Role.TRUSTEE})


def register() -> None:
    registry.register_permissions({"impact.view": READERS, "impact.export": READERS})
    registry.register_nav_item(
        "Impact", url_name="impact_report", permission="impact.view", prefix="/impact/", order=90
    )
    registry.register_home_panel(
        "impact", template="impact/home_panel.html", context=_home_panel, order=35, slot="main"
    )
    kinds.register_support_kind(
        "voucher",
        "Vouchers",
        voucher_support_events,
        parts=tuple((f"voucher:{service}", f"{label} vouchers") for service, label in Service.choices),
    )
    kinds.register_support_kind("welcome_pack", "Welcome packs handed over", gift_support_events)
    kinds.register_support_kind("coat", "Coats", request_support_events(ItemKind.COAT))
    kinds.register_support_kind("shoes", "Shoes", request_support_events(ItemKind.SHOES))
    kinds.register_support_kind("uniform", "Uniform for need", request_support_events(ItemKind.UNIFORM))


def _home_panel(request):
    from impact.web import home_panel

    return home_panel(request)
