"""Words, navigation and the admin (issue 15.6): every role's header fits one line at 1280 px (a lead's
and an admin's links fold into menus that open without JavaScript), people are named, a form submitted
empty names each field it needs, and each task's page links its guide; axe-clean at 360 px and desktop."""

import pytest

from tests.e2e.browser import DESKTOP, follow, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The header's boxes: the service name's and every top-level navigation item's, in page pixels.
HEADER_JS = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
  const header = document.querySelector('.app-header');
  return {
    height: header.getBoundingClientRect().height,
    name: box(document.querySelector('.app-header__service-name')),
    items: [...document.querySelectorAll('.app-header__nav-list > .app-header__nav-item')].map(box),
  };
}"""


def _one_line(page) -> dict:
    page.wait_for_load_state()
    page.evaluate("() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(r)))")
    header = page.evaluate(HEADER_JS)
    middle = (header["name"]["top"] + header["name"]["bottom"]) / 2
    for item in header["items"]:
        assert item["top"] <= middle <= item["bottom"], f"a navigation item sits on another line: {header}"
    return header


def test_every_roles_header_fits_one_line_at_1280_px(
    new_page, pastoral_a, lead_a, finance, charity_staff, admin
):
    from support.models import Role
    from tests.factories import make_user

    trustee = make_user("trustee", Role.TRUSTEE)
    heights = {}
    for user in (pastoral_a, lead_a, finance, charity_staff, admin, trustee):
        page = new_page(DESKTOP)
        sign_in(page, user)
        heights[user.username] = _one_line(page)["height"]
        if user in (pastoral_a, finance, charity_staff, lead_a, trustee):
            assert not page.get_by_role("link", name="API").count()
        page.close()
    assert max(heights.values()) - min(heights.values()) < 2, heights  # the same bar for everyone


def test_an_admin_opens_a_menu_without_javascript_and_a_lead_sees_field_named_errors(
    new_page, check_page, admin, lead_a, consented_family
):
    admin.first_name, admin.last_name = "Ada", "Okoro"
    admin.save(update_fields=["first_name", "last_name"])
    page = new_page(DESKTOP)
    page.context.set_extra_http_headers({})
    sign_in(page, admin)
    _one_line(page)
    families = page.locator("summary", has_text="Families")
    families.click()
    follow(page.get_by_role("link", name="Possible duplicates"))
    assert page.get_by_role("heading", name="Possible duplicate families").is_visible()
    assert page.url.endswith("/duplicates/")
    menu = page.locator("summary", has_text="Families")
    assert "app-header__menu-summary--current" in menu.get_attribute("class")
    menu.click()
    check_page(page, "admin-menu-open")

    # A lead adds a contact and sends the form empty: each message names its field.
    lead_a.first_name, lead_a.last_name = "Lee", "Lead"
    lead_a.save(update_fields=["first_name", "last_name"])
    lead = new_page(DESKTOP)
    sign_in(lead, lead_a, next_path=f"/families/{consented_family.pk}/contacts/add/")
    lead.get_by_label("Full name").fill("")
    follow(lead.get_by_role("button", name="Save contact"))
    summary = lead.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "Enter the full name" in summary.inner_text()
    assert "This field is required" not in lead.content()
    check_page(lead, "contact-empty")

    # The import page links its guide; the guide is a page of the site.
    lead.goto("/imports/")
    follow(lead.get_by_role("link", name="Help with this page"))
    assert lead.get_by_role("heading", name="Importing pupils").is_visible()
    assert "lead_a" not in lead.content()
    check_page(lead, "guide-imports")
