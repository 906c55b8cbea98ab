"""A stall's vlog on a shopper's phone: nothing is asked of YouTube (or any other site) until
the shopper taps the video; then the privacy-enhanced player loads, in place."""

from market.services.slugs import slugify

STALL = f"/pasar/pasar-inpres-kebun-sayur/lapak/{slugify('Manik Dayak Bu Sri')}/?lang=en"


def test_a_stall_with_a_youtube_vlog_asks_no_other_site_until_the_tap(phone, base_url):
    asked: list[str] = []
    phone.on("request", lambda request: asked.append(request.url))
    phone.goto(STALL)
    video = phone.get_by_role("link", name="Watch on YouTube")
    # Everything the page would lazy-load, loaded: the video in view, the network quiet.
    video.scroll_into_view_if_needed()
    phone.mouse.wheel(0, 5000)
    phone.wait_for_load_state("networkidle")
    assert asked and asked[0].startswith(base_url)
    elsewhere = [url for url in asked if not url.startswith(base_url + "/")]
    assert not elsewhere, elsewhere

    video.click()
    player = phone.locator("iframe.vlog-frame")
    player.wait_for()
    assert player.get_attribute("src").startswith(
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    )
    phone.wait_for_load_state("networkidle")
    elsewhere = [url for url in asked if not url.startswith(base_url + "/")]
    assert elsewhere and all(
        url.startswith("https://www.youtube-nocookie.com/") for url in elsewhere
    ), elsewhere
