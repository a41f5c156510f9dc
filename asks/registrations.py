"""What the core learns about asks: permissions, navigation, home's count of the work waiting."""

from asks.panels import home_asks_waiting
from support import registry
from support.permissions import LEADS, SCHOOL_STAFF


def register() -> None:
    registry.register_permissions({"asks.decide": LEADS, "asks.poster": SCHOOL_STAFF})
    registry.register_nav_item(
        "Asks for help",
        url_name="ask_queue",
        permission="asks.decide",
        prefix="/asks/",
        order=65,
        group="uniform",
    )
    registry.register_home_panel("asks_waiting", context=home_asks_waiting, slot="work", order=5)
