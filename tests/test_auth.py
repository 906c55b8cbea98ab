"""Logging in by email or phone, generic failures, rate limits, safe redirects, sessions."""

import pytest

from market.models import Role
from market.services import accounts
from tests.factories import PASSWORD, make_user
from tests.pages import csrf_token, login

WRONG_LOGIN = "Email/nomor HP atau kata sandi salah."


def test_login_by_email_is_case_insensitive(client):
    make_user(Role.VOLUNTEER, email="Relawan@Example.org")
    response = login(client, "  RELAWAN@example.ORG ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/"


@pytest.mark.parametrize("spelling", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890"])
def test_phone_login_works_in_every_spelling(client, spelling):
    make_user(Role.VENDOR, phone="081234567890")
    response = login(client, spelling)
    assert response.status_code == 302, spelling


def test_phone_numbers_are_stored_in_e164(ctx):
    user = make_user(Role.VENDOR, phone="0812-3456-7890")
    assert user.phone == "+6281234567890"


def test_wrong_password_and_unknown_account_give_the_same_message(client):
    make_user(Role.VOLUNTEER, email="known@example.org")
    wrong = login(client, "known@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG_LOGIN in wrong.get_data(as_text=True)
    assert WRONG_LOGIN in unknown.get_data(as_text=True)


def test_sixth_failed_login_for_one_account_within_a_minute_is_429(client):
    make_user(Role.VOLUNTEER, email="target@example.org")
    for _ in range(5):
        assert login(client, "target@example.org", "wrong password").status_code == 200
    assert login(client, "target@example.org", "wrong password").status_code == 429
    # Even the right password waits: the limit protects the account, not the attacker's guess.
    assert login(client, "target@example.org", PASSWORD).status_code == 429


# One account, as people write it: the limit counts them as one.
SPELLINGS = ("081234567890", "+62 812 3456 7890", "6281234567890", "0812-3456-7890")


def _login_from(client, address: str, login_name: str, password: str):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"login": login_name, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_account_limit_counts_every_spelling_of_a_phone_number_from_any_address(client):
    make_user(Role.VENDOR, phone="081234567890")
    for n in range(5):
        guess = _login_from(client, f"127.0.0.{n + 1}", SPELLINGS[n % 4], "wrong password")
        assert guess.status_code == 200, n
    # The sixth guess, in yet another spelling, from yet another address.
    assert _login_from(client, "127.0.0.6", SPELLINGS[1], "wrong password").status_code == 429
    assert _login_from(client, "127.0.0.7", SPELLINGS[2], PASSWORD).status_code == 429
    # The limit is the account's, not the addresses': another account still gets its tries.
    assert _login_from(client, "127.0.0.8", "0813-1111-2222", "wrong password").status_code == 200


def test_failed_logins_from_one_address_are_limited_across_accounts(client):
    for n in range(5):
        assert login(client, f"user{n}@example.org", "wrong password").status_code == 200
    assert login(client, "another@example.org", "wrong password").status_code == 429


def test_successful_logins_do_not_count_against_the_limit(client):
    make_user(Role.VOLUNTEER, email="busy@example.org")
    for _ in range(7):
        assert login(client, "busy@example.org").status_code == 302
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/manage/")})


def test_inactive_account_cannot_log_in(client):
    user = make_user(Role.VOLUNTEER, email="gone@example.org")
    user.active = False
    from market.extensions import db

    db.session.commit()
    refused = login(client, "gone@example.org")
    # The right password learns why; a wrong one learns nothing about the account.
    assert refused.status_code == 200
    assert "Akun ini dinonaktifkan" in refused.get_data(as_text=True)
    assert WRONG_LOGIN in login(client, "gone@example.org", "not the password").get_data(
        as_text=True
    )
    assert client.get("/manage/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%09/evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "/\t/evil.example",
        "///evil.example",
        " https://evil.example",
    ],
)
def test_next_never_leaves_the_site(client, target):
    make_user(Role.VOLUNTEER, email="v@example.org")
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"login": "v@example.org", "password": PASSWORD, "next": target, "csrf_token": token},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location


def test_next_within_the_site_is_followed(client):
    make_user(Role.VOLUNTEER, email="v@example.org")
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={
            "login": "v@example.org",
            "password": PASSWORD,
            "next": "/admin/",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/admin/"


def test_logout_ends_the_session_everywhere(app, client):
    make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, "v@example.org")
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/manage/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/manage/")})
    assert stolen.get("/manage/").status_code == 302


def test_session_is_renewed_at_login(client):
    make_user(Role.VOLUNTEER, email="v@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, "v@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_password_policy():
    with pytest.raises(accounts.Invalid):
        accounts.check_password_policy("short")
    with pytest.raises(accounts.Invalid):
        accounts.check_password_policy("password123")
    accounts.check_password_policy("pasar kebun sayur pagi hari")
    accounts.check_password_policy("x" * 200)


def test_production_hashing_meets_owasp_minimum():
    # OWASP Password Storage Cheat Sheet: scrypt N=2^15 (32 MiB), r=8, p=3 is a minimum setting.
    method, n, r, p = accounts.PASSWORD_METHOD.split(":")
    assert method == "scrypt"
    assert int(n) >= 2**15 and int(r) >= 8 and int(p) >= 3
