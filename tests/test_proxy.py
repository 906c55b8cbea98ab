"""Behind a reverse proxy, MARKET_PROXY_HOPS decides whose address the login limit counts:
the shopper's, from X-Forwarded-For, and not one a client writes into the header itself."""

import pytest

from market import create_app
from tests.pages import csrf_token

PROXY = "10.0.0.2"
SHOPPER_A = "203.0.113.7"
SHOPPER_B = "203.0.113.8"


def behind_proxy(app, hops: int):
    proxied = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "MARKET_STORAGE_URL": app.config["MARKET_STORAGE_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "MARKET_PROXY_HOPS": hops,
            "MARKET_LOGIN_LIMIT": "5 per minute",
        }
    )
    # Every request arrives from the proxy; only the header tells shoppers apart.
    client = proxied.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    return client


def failed_login(client, forwarded_for: str, attempt: int) -> int:
    """A wrong password for an account of its own each time, so that only the limit per
    address can stop it."""
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={
            "login": f"nobody{attempt}@example.org",
            "password": "wrong password",
            "csrf_token": token,
        },
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


@pytest.fixture
def one_hop(app):
    return behind_proxy(app, hops=1)


def test_with_one_hop_each_shopper_is_limited_on_their_own(one_hop):
    assert [failed_login(one_hop, SHOPPER_A, n) for n in range(6)] == [200] * 5 + [429]
    assert failed_login(one_hop, SHOPPER_B, 6) == 200


def test_with_one_hop_a_forged_address_in_front_does_not_help(one_hop):
    for n in range(5):
        # The proxy appends the address it saw; whatever the client sent stays in front.
        assert failed_login(one_hop, f"198.51.100.{n}, {SHOPPER_A}", n) == 200
    assert failed_login(one_hop, f"198.51.100.99, {SHOPPER_A}", 5) == 429


def test_without_hops_the_header_is_ignored(app):
    client = behind_proxy(app, hops=0)
    assert [failed_login(client, SHOPPER_A, n) for n in range(5)] == [200] * 5
    # Everyone is the proxy: another shopper is limited with the first.
    assert failed_login(client, SHOPPER_B, 5) == 429
