"""Ready for a shared HTTP cache in front: nothing personal is ever shareable (every route,
walked as a visitor and as signed-in people), and the Varnish configuration of docs/DEPLOY.md,
run here against the app, serves public pages from its cache and drops exactly the changed
market's pages when the app purges them."""

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from flask_migrate import upgrade

from market import create_app
from market.extensions import db
from market.models import Role
from market.seed.demo import demo_image
from market.services import invitations
from market.services.photos import process_upload, store_photo
from tests.factories import (
    make_campaign,
    make_market,
    make_people,
    make_product,
    make_user,
    make_vendor,
)
from tests.live import app_env, free_port, serve
from tests.pages import login

ROOT = Path(__file__).resolve().parents[1]
ARGUMENT = re.compile(r"<(?:[^<>]+:)?(\w+)>")


@pytest.fixture
def world(ctx):
    market, other = make_market(), make_market()
    people = make_people(market, other)
    vendor = make_vendor(market, owner=people["vendor"])
    product = make_product(vendor)
    photo = store_photo(
        process_upload(demo_image("walk", (90, 140, 60), (320, 240))), vendor_id=vendor.id
    )
    db.session.commit()
    claimable = make_vendor(market, published=False, owner=None)
    token = invitations.create_invitation(claimable, actor=people["volunteer"]).token
    values = {
        "market_slug": market.slug,
        "vendor_slug": vendor.slug,
        "product_slug": product.slug,
        "kind": "produk",
        "direction": "berikutnya",
        "marketplace": "tokopedia",
        "number": 1,
        "key": photo.key(photo.variants[0]),
        "filename": "css/app.css",
        "token": token,
        "market_id": market.id,
        "vendor_id": vendor.id,
        "product_id": product.id,
        "user_id": people["volunteer"].id,
        "campaign_id": make_campaign([market], [people["volunteer"]]).id,
    }
    return people, values


def every_get_route(app, values) -> dict[str, str]:
    paths = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            path = ARGUMENT.sub(lambda m: str(values[m.group(1)]), rule.rule)
            paths[f"{rule.endpoint} {rule.rule}"] = path
    return paths


def directives(response) -> set[str]:
    return {d.strip() for d in response.headers.get("Cache-Control", "").split(",") if d.strip()}


def test_nothing_personal_is_shareable_on_any_route(app, client, world):
    people, values = world
    routes = every_get_route(app, values)
    assert len(routes) > 50
    shared_seen = 0
    for label, path in routes.items():
        response = app.test_client().get(path)
        control = directives(response)
        if "Set-Cookie" in response.headers:
            assert {"private", "no-store"} <= control, (label, control)
            assert "Surrogate-Key" not in response.headers, label
        if "public" in control or any(d.startswith("s-maxage") for d in control):
            shared_seen += 1
            assert "Set-Cookie" not in response.headers, label
    assert shared_seen >= 15, "the public pages are shareable"

    for role in ("vendor", "volunteer", "coordinator", "admin"):
        signed_in = app.test_client()
        assert login(signed_in, people[role].login).status_code == 302
        for label, path in routes.items():
            response = signed_in.get(path)
            control = directives(response)
            if label.startswith("static ") or "immutable" in control:
                # The same file for everyone for ever (stylesheets, photos named by hash).
                assert "Set-Cookie" not in response.headers, (role, label)
                continue
            assert {"private", "no-store"} <= control, (role, label, control)
            assert "Surrogate-Key" not in response.headers, (role, label)
            assert "Cache-Tag" not in response.headers, (role, label)


def test_public_pages_name_their_market_and_stall_for_the_cache_in_front(client):
    market = make_market(slug="pasar-a")
    vendor = make_vendor(market, slug="lapak-1")
    make_product(vendor, slug="amplang")
    stall = client.get("/pasar/pasar-a/lapak/lapak-1/amplang")
    assert stall.headers["Surrogate-Key"] == "pasar market-pasar-a vendor-pasar-a/lapak-1"
    assert stall.headers["Cache-Tag"] == "pasar,market-pasar-a,vendor-pasar-a/lapak-1"
    assert directives(stall) == {"public", "max-age=0", "s-maxage=60"}
    listing = client.get("/pasar/pasar-a/cari?q=amplang")
    assert listing.headers["Surrogate-Key"] == "pasar market-pasar-a stalls-pasar-a"
    assert "stale-while-revalidate=30" in directives(listing)
    assert client.get("/").headers["Surrogate-Key"] == "pasar markets"


# --- Varnish, configured as docs/DEPLOY.md says ----------------------------------------------


def documented_vcl(backend_port: int) -> str:
    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    vcl = re.search(r"```vcl\n(.*?)```", text, re.S).group(1)
    assert '.port = "8000";' in vcl
    return vcl.replace('.port = "8000";', f'.port = "{backend_port}";')


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("varnishd did not start")


def fetch(url: str, **headers) -> tuple[str, str]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return r.headers.get("X-Cache", ""), r.read().decode()


@pytest.mark.live
@pytest.mark.skipif(
    not shutil.which("varnishd"), reason="varnishd not installed (apt-get install varnish)"
)
def test_varnish_serves_from_its_cache_and_the_app_purges_only_the_changed_market(tmp_path):
    env = app_env(tmp_path, MARKET_PAGE_CACHE="0", MARKET_PROXY_HOPS="1")
    varnish_port = free_port()
    live = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["MARKET_DATABASE_URL"],
            "MARKET_STORAGE_URL": env["MARKET_STORAGE_URL"],
            "SECRET_KEY": env["MARKET_SECRET_KEY"],
            "MARKET_PURGE_URL": f"http://127.0.0.1:{varnish_port}/",
        }
    )
    with live.app_context():
        upgrade()
        stalls = {}
        for name in ("a", "b"):
            market = make_market(slug=f"pasar-{name}")
            stalls[name] = make_vendor(market, slug="lapak-1", business_name=f"Lapak {name}")
            make_product(stalls[name], slug="amplang")
        make_user(Role.VOLUNTEER, email="v@example.org")
        db.session.commit()
        with serve(env) as app_url:
            backend_port = int(app_url.rsplit(":", 1)[1])
            vcl = tmp_path / "pasar.vcl"
            vcl.write_text(documented_vcl(backend_port))
            varnish = subprocess.Popen(
                ["varnishd", "-F", "-j", "none", "-n", str(tmp_path / "varnish"),
                 "-a", f"127.0.0.1:{varnish_port}", "-f", str(vcl), "-s", "malloc,32m",
                 "-p", "ban_lurker_sleep=0.01"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            try:
                wait_for_port(varnish_port, varnish)
                front = f"http://127.0.0.1:{varnish_port}"
                pages = {
                    name: [f"/pasar/pasar-{name}/", f"/pasar/pasar-{name}/lapak/lapak-1/amplang"]
                    for name in ("a", "b")
                }
                for paths in pages.values():
                    for path in paths:
                        assert fetch(front + path)[0] == "MISS", path
                        assert fetch(front + path)[0] == "HIT", path
                # The language cookie is a cache variant of its own, not a bypass.
                assert fetch(front + "/pasar/pasar-a/", Cookie="lang=en")[0] == "MISS"
                assert fetch(front + "/pasar/pasar-a/", Cookie="lang=en")[0] == "HIT"
                # Personal: never stored, never served from the cache.
                for _ in range(2):
                    assert fetch(front + "/auth/login")[0] == "MISS"
                    assert fetch(front + "/pasar/pasar-a/", Cookie="session=x")[0] == "MISS"

                stalls["b"].business_name = "Lapak Baru"
                db.session.commit()
                deadline = time.monotonic() + 5
                while fetch(front + pages["b"][1])[0] == "HIT" and time.monotonic() < deadline:
                    time.sleep(0.05)

                for path in pages["b"]:
                    body = fetch(front + path)[1]
                    assert "Lapak Baru" in body, path
                for path in pages["a"]:
                    assert fetch(front + path)[0] == "HIT", path
            finally:
                varnish.terminate()
                varnish.wait(timeout=10)
