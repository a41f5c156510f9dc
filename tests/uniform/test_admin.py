"""The uniform admin writes items and welcome packs through the services the pages use, offers a pack
only its own school's uniform, and shows a refusal on the form."""

import pytest
from django.urls import reverse

from funds.models import Fund
from support.models import AuditEvent
from tests.admin_forms import post_admin_form
from tests.uniform.factories import UniformItemFactory, WelcomePackItemFactory
from uniform.models import UniformItem, WelcomePack, WelcomePackItem

pytestmark = pytest.mark.django_db

ITEM_ADD = reverse("admin:uniform_uniformitem_add")
PACK_ADD = reverse("admin:uniform_welcomepack_add")


def _item_post(school, **changes) -> dict:
    return {
        "school": school.pk,
        "name": "Polo shirt",
        "kind": "uniform",
        "sizes": '["5-6"]',
        "unit_cost_pence": "6.50",
        "supplier": "",
        "is_active": "on",
        **changes,
    }


def _pack_post(school, *items, **changes) -> dict:
    data = {
        "school": school.pk,
        "year_group": 0,
        "fund": "",
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for n, (item, quantity) in enumerate(items):
        data |= {f"items-{n}-item": item.pk, f"items-{n}-quantity": quantity}
    return data | changes


def test_it_adds_an_item_through_the_service(client_for, admin, school_a):
    response = client_for(admin).post(ITEM_ADD, _item_post(school_a, name="  Polo   shirt "))
    assert response.status_code == 302
    item = UniformItem.objects.get(school=school_a)
    assert item.name == "Polo   shirt".strip()
    event = AuditEvent.objects.get(action="uniform_item.created")
    assert (event.subject_id, event.actor) == (str(item.pk), admin)
    assert not AuditEvent.objects.filter(action="uniformitem.created").exists()  # not the plain save's


def test_it_shows_the_services_refusal_of_a_second_item_of_the_same_name(client_for, admin, school_a):
    UniformItemFactory(school=school_a, name="Polo shirt")
    response = client_for(admin).post(ITEM_ADD, _item_post(school_a, name="POLO SHIRT"))
    assert response.status_code == 200
    assert f"{school_a.name} already has an item called POLO SHIRT." in response.content.decode()
    assert UniformItem.objects.filter(school=school_a).count() == 1


def test_it_refuses_to_move_an_item_to_another_school(client_for, admin, school_a, school_b):
    item = UniformItemFactory(school=school_a)
    path = reverse("admin:uniform_uniformitem_change", args=[item.pk])
    response = post_admin_form(client_for(admin), path, school=school_b.pk)
    assert "This item belongs to another school." in response.content.decode()
    assert UniformItem.objects.get(pk=item.pk).school == school_a


def test_it_makes_a_pack_through_the_service(client_for, admin, school_a):
    jumper = UniformItemFactory(school=school_a, name="Jumper")
    response = client_for(admin).post(PACK_ADD, _pack_post(school_a, (jumper, 2)))
    assert response.status_code == 302
    pack = WelcomePack.objects.get(school=school_a, year_group=0)
    assert dict(pack.items.values_list("item_id", "quantity")) == {jumper.pk: 2}
    assert AuditEvent.objects.get(action="welcome_pack.updated").after == {str(jumper.pk): 2}


def test_it_refuses_another_schools_item_in_a_new_pack(client_for, admin, school_a, school_b):
    theirs = UniformItemFactory(school=school_b, name="Blazer")
    response = client_for(admin).post(PACK_ADD, _pack_post(school_a, (theirs, 1)))
    assert response.status_code == 200
    assert "Choose items of this school only." in response.content.decode()
    assert not WelcomePack.objects.exists()


def test_it_offers_a_pack_only_its_own_schools_uniform(client_for, admin, school_a, school_b):
    line = WelcomePackItemFactory(pack__school=school_a)
    UniformItemFactory(school=school_b, name="Blazer")
    UniformItemFactory(school=school_a, name="Winter coat", kind="coat")
    page = client_for(admin).get(reverse("admin:uniform_welcomepack_change", args=[line.pack.pk]))
    (inline,) = page.context["inline_admin_formsets"]
    offered = set(inline.formset.empty_form.fields["item"].queryset)
    assert offered == {line.item}
    assert "school" not in page.context["adminform"].form.fields  # a pack stays its school's


def test_it_changes_a_packs_contents_through_the_service(client_for, admin, school_a):
    line = WelcomePackItemFactory(pack__school=school_a, quantity=1)
    path = reverse("admin:uniform_welcomepack_change", args=[line.pack.pk])
    response = post_admin_form(client_for(admin), path, **{"items-0-quantity": 3})
    assert response.status_code == 302
    assert WelcomePackItem.objects.get(pk=line.pk).quantity == 3
    event = AuditEvent.objects.get(action="welcome_pack.updated")
    assert (event.before, event.after) == ({str(line.item.pk): 1}, {str(line.item.pk): 3})


def test_it_refuses_another_schools_budget_for_a_pack(client_for, admin, school_a, school_b):
    line = WelcomePackItemFactory(pack__school=school_a)
    theirs = Fund.objects.create(name="Beta hardship", school=school_b)
    path = reverse("admin:uniform_welcomepack_change", args=[line.pack.pk])
    response = post_admin_form(client_for(admin), path, fund=theirs.pk)
    assert "Beta hardship is another school&#x27;s budget." in response.content.decode()
    assert WelcomePack.objects.get(pk=line.pack.pk).fund is None
