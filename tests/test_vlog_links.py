"""Vlog links on a stall or a product, through the vlogs page: real shapes are recognised,
hostile ones refused with nothing stored; the parser itself is tested in test_vlogs.py."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, VlogLink, VlogPlatform
from market.services.errors import Invalid
from market.services.products import delete_product
from market.services.readiness import vendor_facts
from market.services.vlog_links import add_vlog, list_vlogs
from tests.factories import make_product
from tests.pages import csrf_token, log_in_english, reload

pytestmark = pytest.mark.usefixtures("en")


def add(client, stocked_world, url: str, **extra):
    return client.post(
        f"/manage/vendors/{stocked_world.vendor.id}/vlogs",
        data={"url": url, "csrf_token": csrf_token(client)} | extra,
    )


def links() -> list[tuple[str, str, str | None]]:
    reload()
    return [
        (v.platform.value, v.url, v.video_id)
        for v in db.session.scalars(select(VlogLink).order_by(VlogLink.id))
    ]


# (pasted, platform, stored link, video id)
ACCEPTED = [
    (
        "https://m.youtube.com/watch?v=aBcDeFgHiJk&si=share123",
        "youtube",
        "https://www.youtube.com/watch?v=aBcDeFgHiJk",
        "aBcDeFgHiJk",
    ),
    (
        "youtube.com/shorts/aBcDeFgHiJk?feature=share",
        "youtube",
        "https://www.youtube.com/shorts/aBcDeFgHiJk",
        "aBcDeFgHiJk",
    ),
    (
        "https://www.tiktok.com/@amplang.busri/video/7301234567890123456?lang=id",
        "tiktok",
        "https://www.tiktok.com/@amplang.busri/video/7301234567890123456",
        "7301234567890123456",
    ),
    ("https://vt.tiktok.com/ZSabc123/", "tiktok", "https://vt.tiktok.com/ZSabc123/", None),
    (
        "https://www.instagram.com/reel/C1a2B3c4D5e/?igsh=abc",
        "instagram",
        "https://www.instagram.com/reel/C1a2B3c4D5e/",
        "C1a2B3c4D5e",
    ),
    ("https://fb.watch/abCDef12/", "facebook", "https://fb.watch/abCDef12/", None),
]


@pytest.mark.parametrize(("pasted", "platform", "url", "video_id"), ACCEPTED)
def test_pasted_links_are_recognised(stocked_world, client, pasted, platform, url, video_id):
    log_in_english(client, stocked_world.people["vendor"])
    before = links()
    response = add(client, stocked_world, pasted)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert links() == [*before, (platform, url, video_id)]


REFUSED = [
    ("javascript:alert(document.cookie)", "Only web links (starting with https://) can be added."),
    ("JaVaScRiPt:alert(1)//youtube.com", "Only web links (starting with https://) can be added."),
    ("data:text/html;base64,PHNjcmlwdD4=", "Only web links (starting with https://) can be added."),
    ("ftp://files.example.org/video.mp4", "Only web links (starting with https://) can be added."),
    # A tab is a control character, refused in every one-line field (market.text).
    ("java\tscript:alert(1)", "Remove the control characters (such as NUL) from this text."),
    ("https://user:pw@youtube.com/watch?v=aBcDeFgHiJk", "Links with a user name or password"),
    ("http://192.168.1.1/admin", "That does not look like a link to a web page."),
    ("https://youtu.be/short", "That link looks incomplete."),
    ("https://evil.example/x", "Only links to YouTube, TikTok, Instagram or Facebook videos"),
    ("kulinerbalikpapan.example.id/2026/amplang", "Only links to YouTube, TikTok, Instagram"),
    ("", "Paste the link to the video."),
]


@pytest.mark.parametrize(("pasted", "message"), REFUSED)
def test_hostile_and_broken_links_are_refused(stocked_world, client, pasted, message):
    log_in_english(client, stocked_world.people["vendor"])
    before = links()
    response = add(client, stocked_world, pasted, title="<script>x</script>")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "<script>x</script>" not in page
    assert links() == before


def test_a_link_for_one_product(stocked_world, client):
    log_in_english(client, stocked_world.people["volunteer"])
    product = stocked_world.product
    page = client.get(f"/manage/vendors/{stocked_world.vendor.id}/vlogs?product={product.id}")
    assert f'<option selected value="{product.id}">' in page.get_data(as_text=True)
    response = add(
        client,
        stocked_world,
        "https://youtu.be/zzzzzzzzzzz",
        product_id=product.id,
        title="Cara bikin",
    )
    assert response.status_code == 303
    reload()
    vlog = db.session.scalar(select(VlogLink).where(VlogLink.video_id == "zzzzzzzzzzz"))
    assert (vlog.product_id, vlog.title) == (product.id, "Cara bikin")
    page = client.get(f"/manage/vendors/{stocked_world.vendor.id}/vlogs").get_data(as_text=True)
    assert "https://www.youtube.com/watch?v=zzzzzzzzzzz" in page
    # Nothing is fetched from YouTube to show the list, not even a thumbnail.
    assert "ytimg" not in page and "<img" not in page
    assert 'rel="nofollow ugc noopener"' in page


def test_another_vendors_product_cannot_be_chosen(stocked_world, client):
    stranger = make_product(stocked_world.neighbour)
    log_in_english(client, stocked_world.people["vendor"])
    response = add(client, stocked_world, "https://youtu.be/zzzzzzzzzzz", product_id=stranger.id)
    assert response.status_code == 422
    reload()
    assert db.session.scalar(select(func.count(VlogLink.id))) == 1
    # The service refuses it too, whatever the form allows.
    with pytest.raises(Invalid, match="Choose the stall or one of its products"):
        add_vlog(
            stocked_world.vendor,
            "https://youtu.be/zzzzzzzzzzz",
            actor=stocked_world.people["volunteer"],
            product_id=stranger.id,
        )


def test_the_same_link_twice_is_refused(stocked_world, client):
    log_in_english(client, stocked_world.people["vendor"])
    response = add(client, stocked_world, "https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    assert response.status_code == 422
    assert "This link is already there." in response.get_data(as_text=True)


def test_delete_and_restore_a_link(stocked_world, client):
    vlog = stocked_world.vlog
    log_in_english(client, stocked_world.people["vendor"])
    client.post(f"/manage/vlogs/{vlog.id}/delete", data={"csrf_token": csrf_token(client)})
    reload()
    assert list_vlogs(stocked_world.vendor) == []
    page = client.get(f"/manage/vendors/{stocked_world.vendor.id}/vlogs").get_data(as_text=True)
    assert "Deleted links (1)" in page
    assert "No vlog yet." in page
    client.post(f"/manage/vlogs/{vlog.id}/restore", data={"csrf_token": csrf_token(client)})
    reload()
    assert list_vlogs(stocked_world.vendor) == [vlog]
    assert list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("vlog.%"))
            .order_by(AuditEvent.id)
        )
    ) == ["vlog.add", "vlog.delete", "vlog.restore"]


def test_links_of_deleted_products_are_not_listed(stocked_world):
    volunteer = stocked_world.people["volunteer"]
    add_vlog(
        stocked_world.vendor,
        "https://youtu.be/yyyyyyyyyyy",
        actor=volunteer,
        product_id=stocked_world.product.id,
    )
    assert len(list_vlogs(stocked_world.vendor)) == 2
    delete_product(stocked_world.product, actor=volunteer)
    assert list_vlogs(stocked_world.vendor) == [stocked_world.vlog]


def test_the_number_of_links_is_limited(stocked_world, monkeypatch):
    monkeypatch.setattr("market.services.vlog_links.MAX_VLOGS", 1)
    with pytest.raises(Invalid, match="There are already 1 links"):
        add_vlog(
            stocked_world.vendor,
            "https://youtu.be/yyyyyyyyyyy",
            actor=stocked_world.people["volunteer"],
        )


def test_links_to_other_sites_kept_from_before_are_hidden_from_shoppers(stocked_world, client):
    """Links to any site were accepted before; they stay for a volunteer to replace, marked so
    in the back office, but no public page shows them and they do not count as the stall's
    vlog."""
    vendor, product = stocked_world.vendor, stocked_world.product
    shown = vendor_facts([vendor.id])[vendor.id].vlogs
    for owner in (None, product):
        db.session.add(
            VlogLink(
                vendor_id=vendor.id,
                product_id=owner.id if owner else None,
                url="https://evil.example/x",
                platform=VlogPlatform.OTHER,
            )
        )
    db.session.commit()
    market = vendor.market
    stall = f"/pasar/{market.slug}/lapak/{vendor.slug}/"
    for path in (stall, f"{stall}{product.slug}"):
        page = client.get(path + "?lang=en").get_data(as_text=True)
        assert "evil.example" not in page, path
    reload()
    assert vendor_facts([vendor.id])[vendor.id].vlogs == shown
    log_in_english(client, stocked_world.people["volunteer"])
    page = client.get(f"/manage/vendors/{vendor.id}/vlogs").get_data(as_text=True)
    assert page.count("Shoppers do not see this link") == 2
    assert page.count("https://evil.example/x") >= 2
