"""What the core learns about signposting: permissions, the family page's panels, timeline entries and
home's count of the follow-ups due (see support.registry).

No header link: a pastoral header is full (one more link would fold "Families" into a menu, a click more
to a pastoral worker's first job), so the directory is linked from the family page's panel instead."""

from signposting.panels import family_recent_signposts, family_signpost_action, home_follow_ups_due
from signposting.timeline import signpost_timeline_entries
from support import registry
from support.permissions import SCHOOL_STAFF


def register() -> None:
    registry.register_permissions(
        {
            "signposting.view": SCHOOL_STAFF,
            "signposting.record": SCHOOL_STAFF,
        }
    )
    registry.register_guide("signposting", title="Signposting and referrals", permission="signposting.view")
    registry.register_family_panel(
        "signpost_action",
        template="signposting/panels/family_action.html",
        context=family_signpost_action,
        slot="actions",
        order=30,
    )
    registry.register_family_panel(
        "signposts",
        template="signposting/panels/family_signposts.html",
        context=family_recent_signposts,
        slot="main",
        order=40,
    )
    registry.register_timeline_source(
        "signposts",
        label="Signposting and referrals",
        entries=signpost_timeline_entries,
        permission="signposting.view",
        order=40,
    )
    registry.register_home_panel("follow_ups_due", context=home_follow_ups_due, slot="work", order=40)
