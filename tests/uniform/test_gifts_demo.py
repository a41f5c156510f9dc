"""The demo trust's uniform, generating its whole intake in bounded queries, and the uniform admin."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funds.models import Fund, SpendRequest
from funds.selectors.positions import fund_position
from funds.services.ledger import standby_fund
from support.models import Phase, Pupil, School
from support.selectors import on_roll_at
from tests.uniform.test_gifts_fixtures import bag_a, jumper_a, make_intake, pack_a, this_year
from uniform.branded import branded_counts
from uniform.demo import uniform_demo_seed
from uniform.models import Gift, StockLevel, SupportRequest, UniformItem, WelcomePack
from uniform.selectors import secondhand_savings
from uniform.services import gifts as gift_services
from uniform.services.requests import request_secondhand_offer

FIXTURES = (bag_a, jumper_a, pack_a)  # pytest finds these by name
pytestmark = pytest.mark.django_db


def test_it_seeds_items_packs_and_stock_for_every_demo_school_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Welcome uniform: items, a welcome pack and opening stock at 11 schools" in out.getvalue()
    # Last year's intake had its packs handed over (the impact report's coverage); none yet this year.
    assert Gift.objects.filter(academic_year=this_year() - 1, status=Gift.Status.HANDED_OVER).exists()
    for school in School.objects.exclude(phase=Phase.ALTERNATIVE):
        pack = WelcomePack.objects.get(school=school)
        assert pack.year_group == (0 if school.phase == Phase.PRIMARY else 7)
        assert pack.items.count() == 4
        assert UniformItem.objects.filter(school=school, kind="uniform").exclude(supplier="").count() == 4
    assert StockLevel.objects.filter(quantity__gt=0).exists()
    assert not Gift.objects.filter(academic_year=this_year()).exists()
    # Welcome packs are paid from the trust's welcome budget; coats and shoes from the standby fund,
    # some committed, some handed over (actual), and one uniform request waiting for finance.
    assert set(WelcomePack.objects.values_list("fund__name", flat=True)) == {"Welcome uniform budget"}
    assert fund_position(fund=Fund.objects.get(name="Welcome uniform budget")).available_pence == 70_000_00
    # Issue 22: one school over the branded limit; donated blazers, one request met from them at £0.
    assert [count.school.phase for count in branded_counts(School.objects.all()) if count.over] == [
        Phase.PRIMARY
    ]
    met = SupportRequest.objects.get(no_cost_reason__startswith="Met from second-hand")
    assert (met.status, met.cost_pence, met.item.name) == (SupportRequest.Status.FROM_STOCK, 0, "Blazer")
    waiting = SupportRequest.objects.filter(
        item__name="Blazer", quantity=1, status=SupportRequest.Status.APPROVED
    )
    assert request_secondhand_offer(request=waiting.get())
    assert secondhand_savings(datetime.date.today(), datetime.date.today()) == {
        met.school_id: met.item.unit_cost_pence
    }
    standby = fund_position(fund=standby_fund())
    assert standby.committed_pence > 0
    assert standby.spent_pence > 0
    waiting = SupportRequest.objects.get(status=SupportRequest.Status.AWAITING_FINANCE)
    assert SpendRequest.objects.get(status="pending").source_id == str(waiting.pk)
    items = UniformItem.objects.count()
    assert uniform_demo_seed() == []
    assert UniformItem.objects.count() == items


def test_it_generates_the_whole_demo_trusts_intake_in_bounded_queries():
    call_command("seed_demo", stdout=StringIO())
    admin = get_user_model().objects.get(username="admin")
    schools = list(School.objects.exclude(phase=Phase.ALTERNATIVE))
    gift_services.gifts_generate(school=schools[0], academic_year=this_year(), actor=admin)  # warms caches
    with CaptureQueriesContext(connection) as queries:
        made = sum(
            gift_services.gifts_generate(school=s, academic_year=this_year(), actor=admin).count
            for s in schools[1:]
        )
    expected = sum(
        # On the school's current roll: former pupils (the demo has leavers) get no welcome pack.
        Pupil.objects.filter(on_roll_at(s.pk), year_group=0 if s.phase == Phase.PRIMARY else 7).count()
        for s in schools[1:]
    )
    assert made == expected > 100
    # Per school: a handful of queries (and the fund's lock, check and position for the packs' cost),
    # plus one insert of each kind (gifts, lines, ledger entries, audit) per batch of rows SQLite allows.
    assert len(queries) <= len(schools[1:]) * 12 + 5 * (made // 50 + len(schools))


def test_it_shows_uniform_in_the_admin_to_trust_admins_only(client_for, admin, lead_a, school_a, pack_a):
    make_intake(school_a, 1)
    gift_services.gifts_generate(school=school_a, academic_year=this_year(), actor=lead_a)
    gift = Gift.objects.get()
    client = client_for(admin)
    for name in ("uniformitem", "welcomepack", "gift", "stocklevel", "stockmovement"):
        assert client.get(reverse(f"admin:uniform_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:uniform_gift_change", args=[gift.pk])).status_code == 200
    assert client.get(reverse("admin:uniform_gift_add")).status_code == 403
    assert client_for(lead_a).get(reverse("admin:uniform_gift_changelist")).status_code in (302, 403)
