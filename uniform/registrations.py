"""What the core learns about uniform: permissions, navigation, the pupil card's request link, timeline
entries and home's counts of the work waiting (see support.registry)."""

from support import registry
from support.models import Role
from support.permissions import LEADS, SCHOOL_STAFF
from uniform.panels import home_packs_waiting, home_requests_waiting, pupil_request_links
from uniform.timeline import request_timeline_entries, welcome_pack_timeline_entries


def register() -> None:
    registry.register_permissions(
        {
            "uniform.view": SCHOOL_STAFF | {Role.FINANCE},
            "uniform.manage_items": LEADS,
            "uniform.generate_gifts": LEADS,
            "uniform.record_sizes": SCHOOL_STAFF,
            "uniform.hand_over": SCHOOL_STAFF,
            "uniform.stock": SCHOOL_STAFF,
            "uniform.print": SCHOOL_STAFF,
            "requests.view": SCHOOL_STAFF | {Role.FINANCE},
            "requests.create": SCHOOL_STAFF,
            "requests.decide": LEADS,
            "requests.fulfil": SCHOOL_STAFF,
            # Each school's required branded items against the legal limit (issue 22).
            "uniform.branded": LEADS,
        }
    )
    registry.register_guide("gifts-and-sizes", title="Welcome packs and sizes", permission="uniform.view")
    registry.register_guide("requests", title="Coat, shoe and uniform requests", permission="requests.view")
    registry.register_guide(
        "second-hand-and-branded", title="Second-hand uniform and branded items", permission="uniform.view"
    )
    registry.register_nav_group("uniform", label="Uniform", order=40)
    registry.register_nav_item(
        "Uniform",
        url_name="uniform_overview",
        permission="uniform.view",
        prefix="/uniform/",
        order=40,
        group="uniform",
    )
    registry.register_nav_item(
        "Requests",
        url_name="support_request_list",
        permission="requests.view",
        prefix="/requests/",
        order=60,
        group="uniform",
    )
    registry.register_family_panel(
        "request_link",
        template="uniform/panels/pupil_request.html",
        context=pupil_request_links,
        slot="pupil",
        order=10,
    )
    registry.register_timeline_source(
        "welcome_packs",
        label="Welcome packs",
        entries=welcome_pack_timeline_entries,
        permission="uniform.view",
        order=20,
    )
    registry.register_timeline_source(
        "requests",
        label="Coat, shoe and uniform requests",
        entries=request_timeline_entries,
        permission="requests.view",
        order=30,
    )
    registry.register_home_panel("requests_waiting", context=home_requests_waiting, slot="work", order=10)
    registry.register_home_panel("packs_waiting", context=home_packs_waiting, slot="work", order=30)
