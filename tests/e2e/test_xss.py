"""Stored and reflected XSS, checked in the real browser: a corpus of payloads saved through
the services into every text field people can type (stalls, products, photos, vlogs, QRIS,
markets, people's names, moderation reasons), then every page that shows them opened in
Chromium under the app's real Content-Security-Policy. No dialog opens, no injected element,
attribute or script exists in the page, and the policy has nothing to block.

Fields are packed with as many payloads as their length allows; the stalls, markets and people
are as many as it takes for every payload to reach every field (the 10-character stall block
and number get the short ones). The static check of the templates is tests/test_escaping.py.
"""

from urllib.parse import quote

import pytest

from market import create_app
from market.extensions import db
from market.models import Product, Role, Vendor, VendorStatus, utcnow
from market.seed.demo import demo_image
from market.services import accounts
from market.services.consent import record_consent, withdraw_consent
from market.services.markets import create_market
from market.services.moderation import hide_product, hide_vendor
from market.services.photos import Upload, add_photos, set_alt_text
from market.services.products import clean_product, create_product
from market.services.qris import save_qris, verify_qris
from market.services.staff import assign_staff
from market.services.vendors import register_vendor
from market.services.vlog_links import add_vlog
from tests.live import app_env, flask, serve

PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1 data-xss>",
    "<svg onload=alert(1) data-xss>",
    "<svg><script>alert(1)</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1) data-xss>",
    '" onfocus="alert(1)" autofocus data-xss="',
    "' onmouseover='alert(1)' data-xss='",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)" data-xss>x</a>',
    '<iframe src="javascript:alert(1)" data-xss></iframe>',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1) data-xss>",
    "<input autofocus onfocus=alert(1) data-xss>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "<!--<img src=x onerror=alert(1)>-->",
    "{{7*7}}{{config}}",
    "{% print(7*7) %}",
    "${alert(1)}",
    "<style data-xss>*{display:none}</style>",
    "<base href=//evil.example/ data-xss>",
    "<meta http-equiv=refresh content=0;url=//evil.example data-xss>",
    '<object data="javascript:alert(1)" data-xss></object>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "＜script＞alert(1)＜/script＞",
    "\u202e<script>alert(1)</script>",
    "<scr\u200dipt>alert(1)</script>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<form action=javascript:alert(1) data-xss><button>x</button></form>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1) data-xss>">',
    '\\"};alert(1);//',
]
# For the 10-character stall block and number.
SHORT = ['"><b>', "<i data-", "{{7*7}}", "'\"><!--", "<svg/", "${1}", "</td>"]


def _fitting(limit: int, prefix: str = "") -> list[str]:
    return [payload for payload in PAYLOADS if len(prefix) + len(payload) <= limit]


def _chunks(limit: int, prefix: str = "") -> list[str]:
    """The payloads that fit in `limit` characters, in as few values as they fit in."""
    chunks, current = [], prefix
    for payload in _fitting(limit, prefix):
        if current != prefix and len(current) + len(payload) > limit:
            chunks.append(current)
            current = prefix
        current += payload
    return [*chunks, current]


LIMITS = {
    "business_name": (120, "Lapak "),
    "owner_name": (120, ""),
    "vendor_description": (1000, ""),
    "opening_hours": (255, ""),
    "product_name": (120, "Kue "),
    "product_description": (2000, ""),
    "price_note": (60, ""),
    "permit_number": (40, ""),
    "material": (120, ""),
    "alt_text": (200, ""),
    "vlog_title": (120, ""),
    "merchant_name": (120, ""),
    "person_name": (120, ""),
    "reason": (255, ""),
    "market_name": (120, "Pasar "),
    "market_address": (255, ""),
    "market_description": (4000, ""),
    "market_hours": (255, ""),
}
CHUNKS = {field: _chunks(limit, prefix) for field, (limit, prefix) in LIMITS.items()}
PRODUCT_FIELDS = ("product_name", "product_description", "price_note", "permit_number", "material")
# Stalls enough for the stall's and the market's fields; products enough for theirs.
CARRIERS = max(len(chunks) for field, chunks in CHUNKS.items() if field not in PRODUCT_FIELDS)
PRODUCTS = -(-max(len(CHUNKS[field]) for field in PRODUCT_FIELDS) // CARRIERS)


def value(field: str, carrier: int) -> str:
    chunks = CHUNKS[field]
    return chunks[carrier % len(chunks)]


def test_every_payload_reaches_every_field():
    for field, chunks in CHUNKS.items():
        limit, prefix = LIMITS[field]
        assert "".join(chunks).replace(prefix, "") == "".join(_fitting(limit, prefix)), field
        assert max(map(len, chunks)) <= limit, field
        # Only the two short product fields cannot hold every payload.
        assert len(_fitting(limit, prefix)) >= (20 if limit < 100 else len(PAYLOADS)), field
    assert len(PAYLOADS) >= 30


def _image(carrier: int, kind: str) -> Upload:
    return Upload(f"{kind}.jpg", demo_image(f"xss-{kind}-{carrier}", (40 + carrier * 9, 90, 140)))


def build(app) -> dict:
    """Every payload in every field, stored through the services as the pages would."""
    with app.app_context():
        admin = accounts.create_user(
            role=Role.ADMIN, name="Admin", email="admin@example.org", password="pasar pagi ramai"
        )
        markets = []
        for carrier in range(CARRIERS):
            market = create_market(
                {
                    "name": value("market_name", carrier),
                    "city": "Balikpapan",
                    "province": "Kalimantan Timur",
                    "address": value("market_address", carrier),
                    "description": value("market_description", carrier),
                    "opening_hours": value("market_hours", carrier),
                    "published": True,
                },
                actor=admin,
            )
            markets.append(market)
        market = markets[0]
        for carrier in range(CARRIERS):
            _stall(market, carrier, admin)
        slugs = {
            "market": market.slug,
            "markets": [m.slug for m in markets],
            "market_ids": [m.id for m in markets],
        }
        vendors = db.session.scalars(
            db.select(Vendor).where(Vendor.market_id == market.id).order_by(Vendor.id)
        ).all()
        slugs["vendors"] = [
            {
                "id": v.id,
                "slug": v.slug,
                "public": v.status == VendorStatus.PUBLISHED,
                "products": [p.id for p in v.products],
                "product_slugs": [p.slug for p in v.products if p.hidden_at is None],
            }
            for v in vendors
        ]
        slugs["volunteers"] = [s.user_id for s in market.staff]
        db.session.remove()
        db.engine.dispose()
    return slugs


def _stall(market, carrier: int, admin) -> None:
    volunteer = accounts.create_user(
        role=Role.VOLUNTEER, name=value("person_name", carrier), email=f"relawan{carrier}@x.org"
    )
    assign_staff(market, actor=admin, email=volunteer.email)
    profile = {
        "business_name": value("business_name", carrier),
        "owner_name": value("owner_name", carrier),
        "stall_block": SHORT[carrier % len(SHORT)],
        "stall_number": SHORT[(carrier + 3) % len(SHORT)],
        "description": value("vendor_description", carrier),
        "opening_hours": value("opening_hours", carrier),
        "whatsapp": f"0812-7777-{carrier:04d}",
    }
    vendor = register_vendor(market, profile, actor=volunteer, allow_duplicate=True)
    record_consent(vendor, actor=volunteer, language="id")
    owner = accounts.create_user(
        role=Role.VENDOR, name=value("person_name", carrier + 1), phone=f"0812-6666-{carrier:04d}"
    )
    vendor.owner = owner
    db.session.commit()
    for number in range(carrier * PRODUCTS, (carrier + 1) * PRODUCTS):
        fields = clean_product(
            {
                "name": value("product_name", number),
                "description": value("product_description", number),
                "price": "25000",
                "price_kind": "from",
                "price_note": value("price_note", number),
                "availability": "pre_order",
                "permit_number": value("permit_number", number),
                "material": value("material", number),
                "halal": True,
            }
        )
        product, _refused = create_product(
            vendor, fields, actor=volunteer, uploads=[_image(number, "product")]
        )
        set_alt_text(product.photos[0], value("alt_text", number), actor=owner)
    [stall_photo], _refused = add_photos(vendor, [_image(carrier, "stall")], actor=owner)
    set_alt_text(stall_photo, value("alt_text", carrier), actor=owner)
    add_vlog(
        vendor, "https://youtu.be/dQw4w9WgXcQ", actor=owner, title=value("vlog_title", carrier)
    )
    add_vlog(
        vendor,
        "https://www.tiktok.com/@penjual/video/7281234567890123456",
        actor=owner,
        product_id=product.id,
        title=value("vlog_title", carrier + 1),
    )
    qris = save_qris(
        vendor,
        actor=owner,
        merchant_name=value("merchant_name", carrier),
        upload=_image(carrier, "qris"),
    )
    verify_qris(vendor, actor=volunteer, photo_id=qris.photo_id, merchant_name=qris.merchant_name)
    # A moderated product, and a hidden stall whose consent was withdrawn: reasons everywhere.
    hidden = Product(vendor=vendor, slug=f"disembunyikan-{carrier}", name=fields.name, price_idr=1)
    db.session.add(hidden)
    db.session.commit()
    hide_product(hidden, actor=admin, reason=value("reason", carrier))
    vendor.status, vendor.published_at = VendorStatus.PUBLISHED, utcnow()
    db.session.commit()
    shadow = register_vendor(
        market,
        profile | {"stall_number": f"S{carrier}", "whatsapp": ""},
        actor=volunteer,
        allow_duplicate=True,
    )
    record_consent(shadow, actor=volunteer, language="en")
    withdraw_consent(shadow, actor=owner, reason=value("reason", carrier + 1))
    hide_vendor(shadow, actor=admin, reason=value("reason", carrier + 2))


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xss")
    env = app_env(folder, MARKET_LOGIN_LIMIT="100 per minute")
    flask(env, "db", "upgrade")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["MARKET_DATABASE_URL"],
            "MARKET_STORAGE_URL": env["MARKET_STORAGE_URL"],
            "SECRET_KEY": env["MARKET_SECRET_KEY"],
            "MARKET_PASSWORD_METHOD": "scrypt:1024:8:1",
        }
    )
    data = build(app)
    log: list[str] = []
    with serve(env, log=log) as url:
        yield url, data
    assert not any("Traceback" in line for line in log), "\n".join(log[-60:])


WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI || "inline"}`);
});
"""
INSPECT = """() => {
  const bad = [];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      const where = `${el.tagName} ${a.name}`;
      if (a.name.startsWith("on") || a.name === "data-xss") bad.push(where);
      if (["href", "src", "action", "data", "formaction"].includes(a.name)
          && a.value.trim().toLowerCase().startsWith("javascript:")) bad.push(where);
    }
    const inline = el.tagName === "SCRIPT" && !el.src;
    if (inline && el.type !== "application/ld+json") bad.push("inline SCRIPT");
    if (["BASE", "OBJECT", "EMBED"].includes(el.tagName)) bad.push(el.tagName);
    if (el.tagName === "META" && el.httpEquiv) bad.push("META http-equiv");
  }
  return {bad, xss: window.__xss ?? null, csp: window.__cspViolations || []};
}"""


def _pages(data: dict) -> list[str]:
    market = data["market"]
    first = data["market_ids"][0]
    pages = [
        "/",
        f"/pasar/{market}/",
        f"/pasar/{market}/cari?q=lapak",
        f"/pasar/{market}/cari?q=kue",
        f"/pasar/{market}/cetak/direktori",
        f"/pasar/{market}/cetak",
        "/sitemap.xml",
        f"/sitemap/{market}/lapak-1.xml",
        f"/api/v1/markets/{market}/vendors?per_page=100",
        f"/api/v1/markets/{market}/products?per_page=100",
        "/manage/",
        "/manage/?status=hidden",
        "/admin/",
        f"/admin/markets/{first}",
        f"/admin/markets/{first}/staff",
        f"/admin/markets/{first}/moderation",
        f"/admin/markets/{first}/audit",
        f"/admin/markets/{first}/audit?page=2",
        f"/admin/markets/{first}/audit?page=3",
    ]
    # Reflected: every payload as a search (the page keeps the first 200 characters).
    pages += [f"/pasar/{market}/cari?q={quote(q)}" for q in _chunks(200)]
    for market_id, slug in zip(data["market_ids"], data["markets"], strict=True):
        pages += [f"/pasar/{slug}/", f"/admin/markets/{market_id}/edit"]
    pages += [f"/admin/markets/{first}/volunteers/{user}" for user in data["volunteers"]]
    for vendor in data["vendors"]:
        manage = f"/manage/vendors/{vendor['id']}"
        if not vendor["public"]:
            # The hidden twin of a stall, with the same fields: only its reasons are new.
            pages += [manage, f"/admin/vendors/{vendor['id']}/moderate"]
            continue
        stall = f"/pasar/{market}/lapak/{vendor['slug']}"
        pages += [
            manage,
            f"{manage}/edit",
            f"{manage}/consent",
            f"{manage}/invitation",
            f"{manage}/products",
            f"{manage}/photos",
            f"{manage}/vlogs",
            f"{manage}/qris",
            f"/admin/vendors/{vendor['id']}/moderate",
            f"/admin/vendors/{vendor['id']}/erase",
            f"{stall}/",
            f"{stall}/poster",
            f"/pasar/{market}/cetak/label/{vendor['slug']}",
        ]
        pages += [f"/manage/products/{product}/edit" for product in vendor["products"]]
        pages += [f"{stall}/{product}" for product in vendor["product_slugs"]]
    return pages


@pytest.mark.e2e
def test_no_payload_runs_anywhere(browser, xss_site):
    base, data = xss_site
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    # Nothing leaves the machine; photos are not needed to find markup, and skipping them
    # halves the time per page.
    context.route(lambda url: not url.startswith(base), lambda route: route.abort())
    context.route("**/media/**", lambda route: route.abort())
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/auth/login?lang=en")
    page.get_by_label("Email or WhatsApp number").fill("admin@example.org")
    page.get_by_label("Password").fill("pasar pagi ramai")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/manage/**")
    problems = []
    pages = _pages(data)
    for path in pages:
        response = page.goto(path, wait_until="domcontentloaded")
        assert response is not None and response.status == 200, (path, response and response.status)
        found = page.evaluate(INSPECT)
        if path.endswith(".xml"):
            # Chromium's own XML viewer styles the tree inline; the policy rightly blocks that.
            found["csp"] = [v for v in found["csp"] if v != "style-src-elem inline"]
        if found["bad"] or found["xss"] is not None or found["csp"]:
            problems.append(f"{path}: {found}")
    page.goto(f"/pasar/{data['market']}/lapak/{data['vendors'][0]['slug']}/")
    # Template syntax stays text.
    assert "{{7*7}}" in page.inner_text("main") or "{{7*7}}" in page.content()
    context.close()
    assert not dialogs, dialogs
    assert not problems, "\n".join(problems)
    assert len(pages) > 200


@pytest.mark.e2e
@pytest.mark.parametrize(
    "payload", [PAYLOADS[1], PAYLOADS[4], PAYLOADS[6], PAYLOADS[9], PAYLOADS[22], PAYLOADS[23]]
)
def test_the_inspection_sees_a_payload_that_got_through(browser, payload):
    """The same checks on a page that put a payload in raw, as a template with |safe would."""
    page = browser.new_page()
    page.set_content(f'<main><input value="{payload}"><p>{payload}</p></main>')
    found = page.evaluate(INSPECT)
    page.close()
    assert found["bad"], payload
