"""The admin speaks as the pages do: amounts in pounds, months by name, and who last changed the policy
is recorded by the save, never typed (support.admin.BoundedAdminMixin, PolicyAdmin)."""

import pytest
from django.urls import reverse

from support.models import Policy
from tests.admin_forms import post_admin_form
from tests.factories import make_user
from uniform.models import UniformItem
from vouchers.models import VoucherType

pytestmark = pytest.mark.django_db

POLICY = reverse("admin:support_policy_change", args=[1])


def test_the_policy_page_shows_pounds_and_month_names_and_no_updated_by_box(client_for, admin):
    Policy.current()
    page = client_for(admin).get(POLICY)
    html = page.content.decode()
    form = page.context["adminform"].form
    assert "updated_by" not in form.fields
    assert 'name="updated_by"' not in html
    assert form["approval_threshold_pence"].value() == "100.00"
    assert form.fields["approval_threshold_pence"].label == "Approval threshold (£)"
    assert "(in pence)" not in html
    assert '<option value="10" selected>October</option>' in html
    assert '<option value="3" selected>March</option>' in html


def test_a_policy_saved_in_pounds_is_kept_in_pence_and_names_who_saved_it(client_for, admin):
    admin.first_name, admin.last_name = "Ada", "Okoro"
    admin.save()
    Policy.current()
    someone = make_user("someone_else", None)
    response = post_admin_form(
        client_for(admin),
        POLICY,
        approval_threshold_pence="150",
        second_approval_threshold_pence="£600.50",
        coat_season_start_month="9",
        updated_by=someone.pk,  # not a field: ignored
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = Policy.current()
    assert (policy.approval_threshold_pence, policy.second_approval_threshold_pence) == (150_00, 600_50)
    assert policy.coat_season_start_month == 9
    assert policy.updated_by == admin
    page = client_for(admin).get(POLICY).content.decode()
    assert "Ada Okoro" in page


def test_a_policy_amount_that_is_not_pounds_is_refused_by_name(client_for, admin):
    Policy.current()
    response = post_admin_form(
        client_for(admin), POLICY, approval_threshold_pence="", coat_season_end_month="13"
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["approval_threshold_pence"] == ["Enter the approval threshold"]
    assert "coat_season_end_month" in errors
    assert Policy.current().approval_threshold_pence == 100_00


def test_a_voucher_types_face_value_and_an_items_unit_cost_are_in_pounds(
    client_for, admin, partner_1, school_a
):
    voucher_type = VoucherType.objects.create(
        partner=partner_1, service="food_parcel", name="Food parcel", face_value_pence=25_00, validity_days=28
    )
    client = client_for(admin)
    path = reverse("admin:vouchers_vouchertype_change", args=[voucher_type.pk])
    assert client.get(path).context["adminform"].form["face_value_pence"].value() == "25.00"
    assert post_admin_form(client, path, face_value_pence="30.50").status_code == 302
    voucher_type.refresh_from_db()
    assert voucher_type.face_value_pence == 30_50

    form = client.get(reverse("admin:uniform_uniformitem_add")).context["adminform"].form
    assert form.fields["unit_cost_pence"].label == "Unit cost (£)"
    assert not UniformItem.objects.exists()
