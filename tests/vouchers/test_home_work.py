"""Vouchers on home (issue 15.3): school staff see how many of their schools' vouchers expire within the
week unredeemed, linking to the voucher list filtered to exactly those; charity staff start with a code box
that sends the code to the same check-and-redeem pages."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.http import work_on_home
from tests.vouchers.factories import VoucherFactory
from vouchers.models import Voucher
from vouchers.selectors import EXPIRING_WITHIN_DAYS
from vouchers.services import voucher_cancel, voucher_redeem

pytestmark = pytest.mark.django_db
EXPIRING = f"Vouchers expiring in the next {EXPIRING_WITHIN_DAYS} days, not yet redeemed"


def _expiring_in(days: int, *, school, voucher_type) -> Voucher:
    voucher = VoucherFactory(school=school, voucher_type=voucher_type)
    Voucher.objects.filter(pk=voucher.pk).update(
        expires_on=timezone.localdate() + datetime.timedelta(days=days)
    )
    voucher.refresh_from_db()
    return voucher


@pytest.fixture
def vouchers_at_both(school_a, school_b, food_type, partner_1, charity_staff, pastoral_a):
    def at(school, days):
        return _expiring_in(days, school=school, voucher_type=food_type)

    counted = [at(school_a, 0), at(school_a, 3), at(school_a, EXPIRING_WITHIN_DAYS)]
    at(school_a, EXPIRING_WITHIN_DAYS + 1)  # not yet
    at(school_a, -1)  # already past its last day (the nightly expiry has not run yet)
    voucher_redeem(voucher=at(school_a, 2), partner=partner_1, redeemed_by=charity_staff)
    cancelled = at(school_a, 2)
    voucher_cancel(voucher=cancelled, actor=cancelled.issued_by, reason="Issued twice")
    at(school_b, 1)
    at(school_b, 2)
    return counted


def _listed(client, url: str) -> set[int]:
    page = client.get(url).content.decode()
    return {int(pk) for pk in re.findall(r'href="/vouchers/(\d+)/"', page)}


def test_it_counts_the_schools_vouchers_expiring_within_the_week_unredeemed(
    client_for, pastoral_a, vouchers_at_both
):
    client = client_for(pastoral_a)
    count, url = work_on_home(client)[EXPIRING]
    assert count == 3
    # The list it opens holds exactly the vouchers counted, and its filter form says how it is filtered.
    assert _listed(client, url) == {v.pk for v in vouchers_at_both}
    form = client.get(url).context["form"]
    today = timezone.localdate()
    assert form.cleaned_data["state"] == Voucher.State.ISSUED
    assert form.cleaned_data["expires_from"] == today
    assert form.cleaned_data["expires_to"] == today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS)


def test_another_schools_staff_count_only_theirs(client_for, pastoral_b, lead_a, vouchers_at_both):
    assert work_on_home(client_for(pastoral_b))[EXPIRING][0] == 2
    assert work_on_home(client_for(lead_a))[EXPIRING][0] == 3


def test_finance_and_charity_staff_get_no_expiry_count(client_for, finance, charity_staff, vouchers_at_both):
    assert EXPIRING not in work_on_home(client_for(finance))
    assert EXPIRING not in work_on_home(client_for(charity_staff))


def test_the_voucher_list_filters_by_expiry_for_any_of_its_users(client_for, finance, vouchers_at_both):
    # Finance sees every school's vouchers as money, expiry included: the same filter narrows their list.
    today = timezone.localdate()
    url = f"{reverse('voucher_list')}?state=issued&expires_from={today}&expires_to={today}"
    assert _listed(client_for(finance), url) == {vouchers_at_both[0].pk}


def test_the_charitys_home_starts_with_a_code_box_that_opens_the_check(client_for, charity_staff, voucher):
    client = client_for(charity_staff)
    page = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("redeem_start")}"' in page
    assert 'id="home-code"' in page
    assert page.index("Check a voucher") < page.index("Your charity")
    # Typed as it is printed, in lower case: the same check as the "Check a voucher" page.
    response = client.post(reverse("redeem_start"), {"code": voucher.display_code.lower()})
    assert response.status_code == 302
    opened = client.get(response["Location"])
    assert opened.status_code == 200
    assert opened.context["voucher"] == voucher


def test_only_charity_staff_get_the_code_box(client_for, pastoral_a, finance, admin):
    for user in (pastoral_a, finance, admin):
        assert 'id="home-code"' not in client_for(user).get(reverse("home")).content.decode()
