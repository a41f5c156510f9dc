"""Finance's panel on the home page (registered with the core in ``funds.registrations``)."""

from django.http import HttpRequest

from funds.models import SpendRequest
from funds.selectors import spend_requests_visible_to
from funds.selectors.positions import fund_position
from funds.services.ledger import standby_fund
from support.scopes import scope_for


def home_standby_fund(request: HttpRequest) -> dict | None:
    """The standby fund's position and the approvals waiting, for finance staff."""
    if not scope_for(request.user).is_finance:
        return None
    return {
        "position": fund_position(fund=standby_fund()),
        "approvals_waiting": spend_requests_visible_to(request.user)
        .filter(status=SpendRequest.Status.PENDING)
        .count(),
    }
