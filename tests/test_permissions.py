"""Each role reaches only what permissions.py allows."""

import pytest

from market.permissions import (
    can_edit_vendor,
    can_manage_market,
    can_onboard_in,
    can_publish_vendor,
)
from tests.pages import login

# who → (manage market, onboard in market, edit vendor, publish vendor)
EXPECTED = {
    "admin": (True, True, True, True),
    "coordinator": (True, True, True, True),
    "other_coordinator": (False, False, False, False),
    "volunteer": (False, True, True, True),
    "other_volunteer": (False, False, False, False),
    "vendor": (False, False, True, False),
    "other_vendor": (False, False, False, False),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_permission_matrix(world, who):
    market, vendor, people = world.market, world.vendor, world.people
    user = people[who]
    actual = (
        can_manage_market(user, market),
        can_onboard_in(user, market),
        can_edit_vendor(user, vendor),
        can_publish_vendor(user, vendor),
    )
    assert actual == EXPECTED[who]


@pytest.mark.parametrize(
    ("who", "manage", "admin"),
    [
        ("admin", 200, 200),
        ("coordinator", 200, 200),
        ("volunteer", 200, 403),
        ("vendor", 200, 403),
    ],
)
def test_back_office_pages_by_role(world, client, who, manage, admin):
    people = world.people
    login(client, people[who].login)
    assert client.get("/manage/").status_code == manage
    assert client.get("/admin/").status_code == admin


def test_anonymous_users_are_sent_to_login(client):
    for path in ("/manage/", "/admin/", "/auth/password"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?next=")
