"""The fund's admin: donations through the service (its refusals on the form), only open funds offered."""

import pytest
from django.urls import reverse

from funds.models import Donation
from support.models import AuditEvent
from tests.funds.factories import DonationFactory, FundFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:funds_donation_add")


def _donation(fund, **changes) -> dict:
    return {
        "fund": fund.pk,
        "donor": "Anonymous",
        "amount_pence": "12.34",
        "received_on": "2025-11-03",
        "restricted_purpose": "",
        **changes,
    }


def test_it_shows_the_services_refusal_of_an_unknown_purpose(client_for, admin):
    fund = FundFactory()
    response = client_for(admin).post(ADD, _donation(fund, restricted_purpose="a yacht"))
    assert response.status_code == 200
    assert "Choose what the donation may pay for." in response.content.decode()
    assert not Donation.objects.exists()
    assert not AuditEvent.objects.filter(action="donation.recorded").exists()


def test_it_offers_only_open_funds_for_a_donation(client_for, admin):
    open_fund, closed = FundFactory(name="Open"), FundFactory(name="Closed", is_active=False)
    form = client_for(admin).get(ADD).context["adminform"].form
    assert set(form.fields["fund"].queryset) == {open_fund}
    response = client_for(admin).post(ADD, _donation(closed))
    assert response.status_code == 200
    assert not Donation.objects.exists()


def test_it_lists_factory_donations_in_the_admin(client_for, admin):
    donation = DonationFactory(donor="Mrs Example")
    client = client_for(admin)
    assert "Mrs Example" in client.get(reverse("admin:funds_donation_changelist")).content.decode()
    assert client.get(reverse("admin:funds_donation_change", args=[donation.pk])).status_code == 200
