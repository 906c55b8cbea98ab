"""The public pages: what each shows, who may see them (everyone, and only public records),
and HTTP caching that an edit invalidates."""

import re

import pytest

from market.extensions import db
from market.models import (
    Availability,
    PriceKind,
    Product,
    Vendor,
    VendorStatus,
    VlogLink,
    VlogPlatform,
    utcnow,
)
from tests.factories import (
    PASSWORD,
    ROLES,
    category,
    make_market,
    make_person,
    make_photo,
    make_product,
    make_user,
    make_vendor,
    make_vlog,
)
from tests.pages import login, product_url, vendor_url


def _hidden_vendor_kinds():
    return {
        "draft": {"published": False},
        "no consent": {"consent_at": None},
        "deleted": {"deleted_at": utcnow()},
        "hidden": {"status": VendorStatus.HIDDEN},
    }


@pytest.mark.parametrize("kind", list(_hidden_vendor_kinds()))
def test_vendor_and_product_of_a_non_public_vendor_are_404(client, kind):
    market = make_market()
    vendor = make_vendor(market, **_hidden_vendor_kinds()[kind])
    product = make_product(vendor)
    assert client.get(vendor_url(vendor)).status_code == 404
    assert client.get(product_url(product)).status_code == 404


@pytest.mark.parametrize("change", [{"deleted_at": utcnow()}, {"hidden_at": utcnow()}])
def test_deleted_or_hidden_product_is_404_and_not_listed(client, change):
    vendor = make_vendor(make_market())
    gone = make_product(vendor, name="Produk Hilang", **change)
    make_product(vendor, name="Produk Ada")
    assert client.get(product_url(gone)).status_code == 404
    body = client.get(vendor_url(vendor)).get_data(as_text=True)
    assert "Produk Ada" in body and "Produk Hilang" not in body


def test_unpublished_market_hides_its_vendors_and_products(client):
    vendor = make_vendor(make_market(published=False))
    product = make_product(vendor)
    assert client.get(vendor_url(vendor)).status_code == 404
    assert client.get(product_url(product)).status_code == 404
    assert client.get(f"/pasar/{vendor.market.slug}/cari?q=x").status_code == 404


def test_a_vendor_is_not_found_under_another_market(client):
    vendor = make_vendor(make_market())
    other = make_market()
    assert client.get(f"/pasar/{other.slug}/lapak/{vendor.slug}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_public_pages_are_the_same_for_every_role(client, role):
    """Nobody, not even staff, sees a draft on the public pages; everyone sees public ones."""
    market = make_market()
    public_vendor = make_vendor(market)
    product = make_product(public_vendor)
    draft = make_vendor(market, published=False)
    draft_product = make_product(draft)
    user = make_person(role, market, public_vendor)
    if user is not None:
        assert login(client, user.login, PASSWORD).status_code == 302
    for path in (
        "/",
        f"/pasar/{market.slug}/",
        vendor_url(public_vendor),
        product_url(product),
        f"/pasar/{market.slug}/cari?q=produk",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get(vendor_url(draft)).status_code == 404
    assert client.get(product_url(draft_product)).status_code == 404


def test_vendor_page_shows_the_stall(client):
    market = make_market(name="Pasar Inpres", opening_hours="08.00–21.00")
    vendor = make_vendor(
        market,
        business_name="Manik Dayak Bu Sri",
        stall_block="A",
        stall_number="3",
        description="Gelang dan kalung manik.",
        categories=[category("aksesoris")],
    )
    make_photo(vendor, alt_text="Kios manik")
    make_product(vendor, name="Gelang manik", price_idr=25000)
    make_product(vendor, name="Ikat kepala", availability=Availability.SOLD_OUT)
    make_vlog(vendor)
    body = client.get(vendor_url(vendor) + "?lang=en").get_data(as_text=True)
    for text in (
        "Manik Dayak Bu Sri",
        "Blok A No. 3",
        "Gelang dan kalung manik.",
        "Accessories &amp; beadwork",
        "Rp25.000",
        "Sold out",
        "08.00–21.00",
        'alt="Kios manik"',
        "Chat on WhatsApp",
        f'action="/pasar/{market.slug}/lapak/{vendor.slug}/wa"',
        "data-share",
    ):
        assert text in body, text
    # The video is a click-to-load facade: a link to YouTube, no player until asked.
    assert 'data-embed="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"' in body
    assert "<iframe" not in body
    assert "Watch on YouTube" in body
    assert "storefront" in body and ".js" in body


def test_product_page_shows_price_availability_and_gallery(client):
    vendor = make_vendor(make_market(), business_name="Amplang Pak Udin")
    product = make_product(
        vendor,
        name="Amplang kepiting",
        price_idr=45000,
        price_kind=PriceKind.FROM,
        price_note="per 250 g",
        availability=Availability.PRE_ORDER,
        halal=True,
        description="Renyah.",
    )
    first = make_photo(vendor, product, position=0)
    make_photo(vendor, product, position=1)
    sibling = make_product(vendor, name="Stik ikan")
    body = client.get(product_url(product) + "?lang=en").get_data(as_text=True)
    for text in ("Amplang kepiting", "from Rp45.000", "per 250 g", "Pre-order", "Renyah."):
        assert text in body, text
    assert "Ask on WhatsApp" in body
    assert "Stik ikan" in body and product_url(sibling) in body
    # Both photos, with srcset and size so nothing jumps; only the first loads eagerly.
    assert body.count('srcset="') >= 2
    assert f'width="400" height="{first.height_for(400)}"' in body
    assert body.count('loading="lazy"') >= 1


def test_market_page_has_search_map_and_a_product_from_each_stall(client):
    market = make_market(address="Jl. Suprapto", latitude=-1.2389, longitude=116.8297)
    for name in ("Satu", "Dua"):
        vendor = make_vendor(market, business_name=f"Lapak {name}")
        make_product(vendor, name=f"Habis {name}", availability=Availability.SOLD_OUT, position=0)
        make_product(vendor, name=f"Ada {name}", position=1)
    body = client.get(f"/pasar/{market.slug}/?lang=en").get_data(as_text=True)
    assert f'action="/pasar/{market.slug}/cari"' in body
    assert "openstreetmap.org/?mlat=-1.238900&amp;mlon=116.829700" in body
    # One product per stall, in stock first.
    assert "Ada Satu" in body and "Ada Dua" in body
    assert "Habis Satu" not in body


def test_market_page_out_of_range_page_is_404(client):
    market = make_market()
    make_vendor(market)
    assert client.get(f"/pasar/{market.slug}/?page=9").status_code == 404


def test_empty_category_says_what_to_do(client):
    market = make_market()
    make_vendor(market, categories=[category("makanan")])
    body = client.get(f"/pasar/{market.slug}/?kategori=kain&lang=en").get_data(as_text=True)
    assert "No stall in this category yet." in body


def test_verified_qris_is_shown_and_unverified_is_not(client):
    from market.models import QrisCode

    vendor = make_vendor(make_market())
    photo = make_photo(vendor, alt_text="qris")
    qris = QrisCode(vendor_id=vendor.id, photo_id=photo.id, merchant_name="TOKO SRI")
    db.session.add(qris)
    db.session.commit()
    assert "TOKO SRI" not in client.get(vendor_url(vendor)).get_data(as_text=True)
    qris.verified_at = utcnow()
    db.session.commit()
    assert "TOKO SRI" in client.get(vendor_url(vendor)).get_data(as_text=True)


# --- HTTP caching -------------------------------------------------------------------------


def _revalidate(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    return etag, client.get(path, headers={"If-None-Match": etag})


@pytest.mark.parametrize("page", ["index", "market", "vendor", "product", "search"])
def test_unchanged_public_pages_answer_304(client, page):
    vendor = make_vendor(make_market())
    product = make_product(vendor)
    path = {
        "index": "/",
        "market": f"/pasar/{vendor.market.slug}/",
        "vendor": vendor_url(vendor),
        "product": product_url(product),
        "search": f"/pasar/{vendor.market.slug}/cari?q=produk",
    }[page]
    etag, again = _revalidate(client, path)
    assert etag.startswith('W/"')
    assert again.status_code == 304
    assert again.get_data() == b""
    assert "public" in again.headers["Cache-Control"]
    # Browsers ask again every time (a cheap 304); a shared cache in front keeps it a while,
    # purged on change.
    assert "max-age=0" in again.headers["Cache-Control"].split(", ")
    assert "s-maxage=60" in again.headers["Cache-Control"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda v, p: setattr(p, "price_idr", 30000),
        lambda v, p: setattr(p, "deleted_at", utcnow()),
        lambda v, p: setattr(v, "description", "Baru"),
        lambda v, p: v.categories.append(category("kain")),
        lambda v, p: p.categories.append(category("kain")),
        lambda v, p: make_photo(v, p),
    ],
    ids=["price", "delete", "vendor", "vendor-category", "product-category", "photo"],
)
def test_an_edit_changes_the_etag_of_the_pages_that_show_it(client, edit):
    vendor = make_vendor(make_market())
    product = make_product(vendor)
    paths = [f"/pasar/{vendor.market.slug}/", vendor_url(vendor), product_url(product)]
    before = {path: client.get(path) for path in paths}
    db.session.expire_all()
    vendor = db.session.get(Vendor, vendor.id)
    product = db.session.get(Product, product.id)
    edit(vendor, product)
    db.session.commit()
    changed = 0
    for path in paths:
        etag = before[path].headers["ETag"]
        response = client.get(path, headers={"If-None-Match": etag})
        if response.status_code == 304:
            # Only a page whose content is unchanged may be revalidated.
            assert client.get(path).get_data() == before[path].get_data(), path
        else:
            assert response.status_code in (200, 404), path
            assert response.headers.get("ETag") != etag
            changed += 1
    assert changed, "the edit showed on no page"


def test_a_new_vlog_changes_the_stall_page_but_not_the_market_page(client):
    vendor = make_vendor(make_market())
    market_path = f"/pasar/{vendor.market.slug}/"
    before = {path: client.get(path).headers["ETag"] for path in (market_path, vendor_url(vendor))}
    make_vlog(vendor)
    assert (
        client.get(market_path, headers={"If-None-Match": before[market_path]}).status_code == 304
    )
    response = client.get(vendor_url(vendor), headers={"If-None-Match": before[vendor_url(vendor)]})
    assert response.status_code == 200


def test_each_language_has_its_own_etag(client):
    vendor = make_vendor(make_market())
    english = client.get(vendor_url(vendor) + "?lang=en")
    indonesian = client.get(vendor_url(vendor) + "?lang=id")
    assert english.headers["ETag"] != indonesian.headers["ETag"]
    assert "Accept-Language" in english.headers["Vary"]


def test_logged_in_pages_are_private_and_not_revalidated(client):
    from market.models import Role

    vendor = make_vendor(make_market())
    user = make_user(Role.ADMIN)
    login(client, user.login)
    response = client.get(vendor_url(vendor))
    assert "ETag" not in response.headers
    assert response.headers["Cache-Control"] == "private, no-store"


def test_photo_files_are_immutable(client):
    response = client.get("/media/photos/ab/nothing.webp")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "platform", "video_id", "english", "indonesian"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=90s",
            VlogPlatform.YOUTUBE,
            "dQw4w9WgXcQ",
            "Watch on YouTube",
            "Tonton di YouTube",
        ),
        (
            "https://www.tiktok.com/@amplang.busri/video/7301234567890123456",
            VlogPlatform.TIKTOK,
            "7301234567890123456",
            "Watch on TikTok",
            "Tonton di TikTok",
        ),
        (
            "https://www.instagram.com/reel/C1a2B3c4D5e/",
            VlogPlatform.INSTAGRAM,
            "C1a2B3c4D5e",
            "Watch on Instagram",
            "Tonton di Instagram",
        ),
        (
            "https://www.facebook.com/watch/?v=1234567890",
            VlogPlatform.FACEBOOK,
            "1234567890",
            "Watch on Facebook",
            "Tonton di Facebook",
        ),
    ],
)
def test_a_vlog_names_its_platform_and_fetches_nothing_from_it(
    client, url, platform, video_id, english, indonesian
):
    vendor = make_vendor(make_market())
    db.session.add(VlogLink(vendor_id=vendor.id, url=url, platform=platform, video_id=video_id))
    db.session.commit()
    response = client.get(vendor_url(vendor) + "?lang=en")
    body = response.get_data(as_text=True)
    assert english in body
    assert indonesian in client.get(vendor_url(vendor) + "?lang=id").get_data(as_text=True)
    assert f'href="{url.replace("&", "&amp;")}"' in body
    # Before the tap, nothing on the page comes from another site: no thumbnail, no player,
    # and the policy would block one anyway.
    assert "ytimg" not in body and "<iframe" not in body
    assert not re.search(r'<img[^>]+src="https?://', body)
    assert "ytimg" not in response.headers["Content-Security-Policy"]
    if platform == VlogPlatform.YOUTUBE:
        # The start time chosen in the link is where the player starts.
        assert "youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1&amp;start=90" in body
