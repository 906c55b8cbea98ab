"""Logging out clears the phone of what Pasar kept for the user (Clear-Site-Data), so it goes
through a back-office page, where the outbox can say what has not been sent yet."""

import re

from market.models import Role
from tests.factories import make_market, make_user
from tests.pages import login

LOGOUT_FORM = re.compile(r'<form method="post" action="/auth/logout"[^>]*data-logout')


def test_logging_out_from_outside_the_back_office_passes_through_it(client, ctx):
    volunteer = make_user(Role.VOLUNTEER, market=make_market())
    assert login(client, volunteer.login).status_code == 302
    for outside in ("/auth/password", "/"):
        page = client.get(outside).get_data(as_text=True)
        assert 'href="/manage/logout"' in page, outside
        assert 'action="/auth/logout"' not in page, outside
    for inside in ("/manage/", "/manage/logout"):
        assert LOGOUT_FORM.search(client.get(inside).get_data(as_text=True)), inside
    assert client.post("/auth/logout", data={"csrf_token": _token(client)}).status_code == 302
    assert client.get("/manage/logout").status_code == 302


def _token(client) -> str:
    page = client.get("/manage/logout").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
