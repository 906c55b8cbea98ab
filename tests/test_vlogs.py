"""Vlog links: real-world shapes from each platform, and hostile input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.models.media import VlogPlatform
from market.services.vlogs import (
    MAX_URL_LENGTH,
    ParsedVlog,
    VlogRejected,
    parse_vlog_url,
    start_seconds,
    youtube_embed,
)

YT = "dQw4w9WgXcQ"
YT_WATCH = f"https://www.youtube.com/watch?v={YT}"
TT = "7301234567890123456"
IG = "C1a2b3c4d5E"
FB = "1234567890123456"

# (pasted text, platform, video id, URL we keep)
ACCEPTED = [
    # YouTube
    (f"https://www.youtube.com/watch?v={YT}", "youtube", YT, YT_WATCH),
    (f"https://youtube.com/watch?v={YT}&feature=youtu.be", "youtube", YT, YT_WATCH),
    (f"https://m.youtube.com/watch?v={YT}&t=42s", "youtube", YT, f"{YT_WATCH}&t=42s"),
    (f"https://www.youtube.com/watch?app=desktop&v={YT}&list=PL123", "youtube", YT, YT_WATCH),
    (f"https://music.youtube.com/watch?v={YT}", "youtube", YT, YT_WATCH),
    (f"http://www.youtube.com/watch?v={YT}#comments", "youtube", YT, YT_WATCH),
    (f"HTTPS://WWW.YOUTUBE.COM/watch?v={YT}", "youtube", YT, YT_WATCH),
    (f"https://youtu.be/{YT}", "youtube", YT, YT_WATCH),
    (f"https://youtu.be/{YT}?si=Ab12Cd34Ef56Gh78", "youtube", YT, YT_WATCH),
    (f"youtu.be/{YT}", "youtube", YT, YT_WATCH),
    (f"www.youtube.com/watch?v={YT}", "youtube", YT, YT_WATCH),
    (
        f"https://youtube.com/shorts/{YT}?feature=share",
        "youtube",
        YT,
        f"https://www.youtube.com/shorts/{YT}",
    ),
    (f"https://m.youtube.com/shorts/{YT}", "youtube", YT, f"https://www.youtube.com/shorts/{YT}"),
    (f"https://www.youtube.com/live/{YT}?si=xyz", "youtube", YT, YT_WATCH),
    (f"https://www.youtube.com/embed/{YT}?start=10", "youtube", YT, f"{YT_WATCH}&t=10s"),
    (f"https://www.youtube-nocookie.com/embed/{YT}", "youtube", YT, YT_WATCH),
    (f"https://youtube.com/v/{YT}", "youtube", YT, YT_WATCH),
    (f"  https://youtu.be/{YT}\n", "youtube", YT, YT_WATCH),
    (
        "https://www.youtube.com/@WarungBuAni",
        "youtube",
        None,
        "https://www.youtube.com/@WarungBuAni",
    ),
    (
        "https://www.youtube.com/playlist?list=PLabc",
        "youtube",
        None,
        "https://www.youtube.com/playlist?list=PLabc",
    ),
    (
        "https://www.youtube.com/embed/videoseries?list=PLabc",
        "youtube",
        None,
        "https://www.youtube.com/embed/videoseries?list=PLabc",
    ),
    # TikTok
    (
        f"https://www.tiktok.com/@pasar.inpres/video/{TT}",
        "tiktok",
        TT,
        f"https://www.tiktok.com/@pasar.inpres/video/{TT}",
    ),
    (
        f"https://www.tiktok.com/@bu_ani_kue/video/{TT}?is_from_webapp=1&sender_device=pc",
        "tiktok",
        TT,
        f"https://www.tiktok.com/@bu_ani_kue/video/{TT}",
    ),
    (
        f"https://m.tiktok.com/@bu_ani_kue/video/{TT}",
        "tiktok",
        TT,
        f"https://www.tiktok.com/@bu_ani_kue/video/{TT}",
    ),
    (
        f"www.tiktok.com/@bu_ani_kue/video/{TT}",
        "tiktok",
        TT,
        f"https://www.tiktok.com/@bu_ani_kue/video/{TT}",
    ),
    (f"https://m.tiktok.com/v/{TT}.html", "tiktok", TT, f"https://m.tiktok.com/v/{TT}.html"),
    (
        f"https://www.tiktok.com/embed/v2/{TT}",
        "tiktok",
        TT,
        f"https://www.tiktok.com/embed/v2/{TT}",
    ),
    ("https://vt.tiktok.com/ZSjYqK2ab/", "tiktok", None, "https://vt.tiktok.com/ZSjYqK2ab/"),
    ("vm.tiktok.com/ZMrAbCdEf/", "tiktok", None, "https://vm.tiktok.com/ZMrAbCdEf/"),
    ("https://www.tiktok.com/t/ZTRabc123/", "tiktok", None, "https://www.tiktok.com/t/ZTRabc123/"),
    ("https://www.tiktok.com/@bu_ani_kue", "tiktok", None, "https://www.tiktok.com/@bu_ani_kue"),
    # Instagram
    (
        f"https://www.instagram.com/reel/{IG}/?igsh=MWQ1ZGUxMzBkMA==",
        "instagram",
        IG,
        f"https://www.instagram.com/reel/{IG}/",
    ),
    (
        f"https://www.instagram.com/reels/{IG}/",
        "instagram",
        IG,
        f"https://www.instagram.com/reel/{IG}/",
    ),
    (f"instagram.com/p/{IG}", "instagram", IG, f"https://www.instagram.com/p/{IG}/"),
    (
        f"https://www.instagram.com/tv/{IG}/?utm_source=ig_web",
        "instagram",
        IG,
        f"https://www.instagram.com/tv/{IG}/",
    ),
    (
        f"https://www.instagram.com/warungbuani/reel/{IG}/",
        "instagram",
        IG,
        f"https://www.instagram.com/reel/{IG}/",
    ),
    (f"https://instagr.am/p/{IG}/", "instagram", IG, f"https://www.instagram.com/p/{IG}/"),
    (
        "https://www.instagram.com/warungbuani/",
        "instagram",
        None,
        "https://www.instagram.com/warungbuani/",
    ),
    (
        "https://www.instagram.com/warungbuani/reels/",
        "instagram",
        None,
        "https://www.instagram.com/warungbuani/reels/",
    ),
    # Facebook
    (
        f"https://www.facebook.com/watch?v={FB}",
        "facebook",
        FB,
        f"https://www.facebook.com/watch/?v={FB}",
    ),
    (
        f"https://www.facebook.com/watch/?v={FB}&ref=sharing",
        "facebook",
        FB,
        f"https://www.facebook.com/watch/?v={FB}",
    ),
    (
        f"https://m.facebook.com/watch/?v={FB}",
        "facebook",
        FB,
        f"https://www.facebook.com/watch/?v={FB}",
    ),
    (
        f"https://www.facebook.com/PasarInpresBalikpapan/videos/{FB}/",
        "facebook",
        FB,
        f"https://www.facebook.com/watch/?v={FB}",
    ),
    (
        f"https://web.facebook.com/PasarInpres/videos/kue-basah-pagi-ini/{FB}/",
        "facebook",
        FB,
        f"https://www.facebook.com/watch/?v={FB}",
    ),
    (
        f"https://www.facebook.com/reel/{FB}?mibextid=abc",
        "facebook",
        FB,
        f"https://www.facebook.com/reel/{FB}",
    ),
    (
        f"https://www.facebook.com/video.php?v={FB}",
        "facebook",
        FB,
        f"https://www.facebook.com/watch/?v={FB}",
    ),
    ("https://fb.watch/oXyZ12_aB/", "facebook", None, "https://fb.watch/oXyZ12_aB/"),
    (
        "https://www.facebook.com/share/v/1AbCdEfGh/",
        "facebook",
        None,
        "https://www.facebook.com/share/v/1AbCdEfGh/",
    ),
    (
        "https://www.facebook.com/PasarInpresBalikpapan",
        "facebook",
        None,
        "https://www.facebook.com/PasarInpresBalikpapan",
    ),
]


@pytest.mark.parametrize(("raw", "platform", "video_id", "url"), ACCEPTED)
def test_accepted_links(raw, platform, video_id, url):
    parsed = parse_vlog_url(raw)
    assert isinstance(parsed, ParsedVlog)
    assert parsed.platform == platform
    assert parsed.platform in set(VlogPlatform)
    assert parsed.video_id == video_id
    if url is not None:
        assert parsed.url == url
    assert parsed.url.startswith("https://")
    assert parsed.url.isascii()
    assert len(parsed.url) <= MAX_URL_LENGTH
    # Normalising is stable: the kept URL parses to the same thing.
    assert parse_vlog_url(parsed.url) == parsed


def test_there_are_enough_real_world_shapes():
    assert len(ACCEPTED) >= 30
    assert {platform for _raw, platform, _id, _url in ACCEPTED} == set(VlogPlatform) - {
        VlogPlatform.OTHER
    }


NOT_WEB = "Only web links (starting with https://) can be added."
NOT_A_LINK = "That does not look like a link to a web page."
CREDENTIALS = "Links with a user name or password in them cannot be added."
INCOMPLETE = "That link looks incomplete. Copy it again with the app's Share button."
TOO_LONG = f"That link is too long (at most {MAX_URL_LENGTH} characters)."
ONLY_PLATFORMS = "Only links to YouTube, TikTok, Instagram or Facebook videos can be added."

REFUSED = [
    # Any other site: a stall page links only to the platforms Pasar knows.
    ("https://vimeo.com/123456789", ONLY_PLATFORMS),
    ("http://blog.example.id/vlog?id=3", ONLY_PLATFORMS),
    ("https://Example.COM:443/a/b", ONLY_PLATFORMS),
    ("https://example.com:8443/a", ONLY_PLATFORMS),
    ('https://example.com/pasar?q=<b>"x"', ONLY_PLATFORMS),
    ("https://example.com/kué", ONLY_PLATFORMS),
    ("https://pasar.xn--p1ai/", ONLY_PLATFORMS),
    ("https://пасар.рф/vlog", ONLY_PLATFORMS),
    # Look-alikes are not the platform they imitate.
    (f"https://youtube.com.evil.example/watch?v={YT}", ONLY_PLATFORMS),
    (f"https://evilyoutube.com/watch?v={YT}", ONLY_PLATFORMS),
    (f"https://youtu.be.evil.example/{YT}", ONLY_PLATFORMS),
    (f"https://notfacebook.com/watch?v={FB}", ONLY_PLATFORMS),
    (f"https://tiktok.com-video.example/@a/video/{TT}", ONLY_PLATFORMS),
    ("javascript:alert(1)", NOT_WEB),
    ("JAVASCRIPT:alert(1)", NOT_WEB),
    ("JaVaScRiPt:alert(document.cookie)", NOT_WEB),
    (" javascript:alert(1)", NOT_WEB),
    ("\tjavascript:alert(1)", NOT_WEB),
    ("java\tscript:alert(1)", NOT_A_LINK),
    ("java\nscript:alert(1)", NOT_A_LINK),
    ("data:text/html,<script>alert(1)</script>", NOT_WEB),
    ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", NOT_WEB),
    ("vbscript:msgbox(1)", NOT_WEB),
    ("file:///etc/passwd", NOT_WEB),
    ("ftp://example.com/video.mp4", NOT_WEB),
    ("mailto:vendor@example.com", NOT_WEB),
    ("intent://youtube.com/watch#Intent;scheme=https;end", NOT_WEB),
    ("localhost:5000/x", NOT_WEB),
    ("//evil.example/x", NOT_A_LINK),
    ("/pasar/inpres", NOT_A_LINK),
    ("\\\\evil.example\\x", NOT_A_LINK),
    ("https://youtube.com\\@evil.example/", NOT_A_LINK),
    ("https://", NOT_A_LINK),
    ("https:///watch?v=dQw4w9WgXcQ", NOT_A_LINK),
    ("https:youtube.com/watch", NOT_A_LINK),
    ("http://localhost/", NOT_A_LINK),
    ("http://127.0.0.1/admin", NOT_A_LINK),
    ("http://[::1]/", NOT_A_LINK),
    ("http://10.0.0.1:8080/", NOT_A_LINK),
    ("https://[::1/", NOT_A_LINK),
    ("https://exa_mple.com/", NOT_A_LINK),
    ("https://example.com:99999/", NOT_A_LINK),
    ("https://example.com:abc/", NOT_A_LINK),
    ("hello world", NOT_A_LINK),
    ("pasar", NOT_A_LINK),
    ("https://you tube.com/watch", NOT_A_LINK),
    ("https://youtube.com/watch?v=dQw4w9WgXcQ\nSet-Cookie: x=1", NOT_A_LINK),
    ("https://youtube.com/watch?v=dQw4\x00w9WgXcQ", NOT_A_LINK),
    ("https://youtube.com/watch?v=dQw4w9WgXcQ\u202e", NOT_A_LINK),
    ("https://you\u200btube.com/", NOT_A_LINK),
    ("http://user:pw@youtube.com/watch?v=dQw4w9WgXcQ", CREDENTIALS),
    ("https://youtube.com@evil.example/", CREDENTIALS),
    ("https://user@example.com/", CREDENTIALS),
    ("https://youtube.com/watch?v=dQw4w9WgX", INCOMPLETE),
    ("https://youtube.com/watch?v=dQw4w9WgXcQQ", INCOMPLETE),
    ("https://youtube.com/watch", INCOMPLETE),
    ("https://youtu.be/", INCOMPLETE),
    ("https://youtube.com/shorts/", INCOMPLETE),
    ("https://youtube.com/embed/<script>", INCOMPLETE),
    ("https://www.tiktok.com/@bu_ani/video/abc", INCOMPLETE),
    ("https://vt.tiktok.com/", INCOMPLETE),
    ("https://www.instagram.com/reel/", INCOMPLETE),
    ("https://www.facebook.com/watch/?v=abc", INCOMPLETE),
    ("https://fb.watch/", INCOMPLETE),
    ("https://www.youtube.com/" + "a" * MAX_URL_LENGTH, TOO_LONG),
    ("youtube.com/" + "a" * (MAX_URL_LENGTH - 12), TOO_LONG),
    ("", "Paste the link to the video."),
    ("   \n", "Paste the link to the video."),
]


@pytest.mark.parametrize(("raw", "message"), REFUSED)
def test_refused_links(raw, message):
    with pytest.raises(VlogRejected) as caught:
        parse_vlog_url(raw)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_link_of_exactly_the_column_length_is_kept():
    raw = "https://www.youtube.com/@" + "a" * (MAX_URL_LENGTH - len("https://www.youtube.com/@"))
    assert parse_vlog_url(raw).url == raw


def test_messages_are_lazy_translations():
    with pytest.raises(VlogRejected) as caught:
        parse_vlog_url("javascript:alert(1)")
    assert type(caught.value.message).__name__ == "LazyString"


def test_youtube_embed():
    assert youtube_embed(YT) == f"https://www.youtube-nocookie.com/embed/{YT}?autoplay=1"
    assert (
        youtube_embed(YT, 90) == f"https://www.youtube-nocookie.com/embed/{YT}?autoplay=1&start=90"
    )
    for bad in ("", "short", "../../evil", 'dQw4w9WgX"Q', None):
        with pytest.raises(ValueError):
            youtube_embed(bad)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (f"https://www.youtube.com/watch?v={YT}&t=30s", 30),
        (f"https://www.youtube.com/watch?v={YT}&t=30", 30),
        (f"https://youtu.be/{YT}?t=1m30s", 90),
        (f"https://youtu.be/{YT}?si=abc&t=1h2m3s", 3723),
        (f"https://m.youtube.com/watch?v={YT}&start=75", 75),
        (f"https://www.youtube.com/live/{YT}?t=2m", 120),
        (f"https://www.youtube.com/watch?v={YT}&t=abc", 0),
        (f"https://www.youtube.com/watch?v={YT}&t=0s", 0),
        (f"https://www.youtube.com/watch?v={YT}", 0),
    ],
)
def test_a_youtube_start_time_is_kept(raw, seconds):
    parsed = parse_vlog_url(raw)
    expected = f"https://www.youtube.com/watch?v={YT}" + (f"&t={seconds}s" if seconds else "")
    assert parsed.url == expected
    assert start_seconds(parsed.url) == seconds
    assert parse_vlog_url(parsed.url) == parsed


URL_PIECES = st.sampled_from(
    [
        *"abc./:?#@[]%\\ \t-_019'\"<",
        *("https://", "http://", "javascript:", "www.", "youtube.com", "youtu.be", "watch?v="),
        *("tiktok.com", "/video/", "facebook.com", "/videos/", "fb.watch", "instagram.com"),
        *("/reel/", YT, TT, IG, "xn--", "ｙ", "。", "\u202e", "\x00"),
    ]
)


@given(st.one_of(st.text(), st.lists(URL_PIECES, max_size=12).map("".join)))
def test_any_text_gives_a_safe_https_link_or_a_clear_refusal(text):
    try:
        parsed = parse_vlog_url(text)
    except VlogRejected as refused:
        assert str(refused) in {message for _raw, message in REFUSED}
    else:
        assert parsed.url.startswith("https://")
        assert parsed.url.isascii() and parsed.url.isprintable() and " " not in parsed.url
        assert not any(ch in parsed.url for ch in "<>\"'\\`{}|^")
        assert len(parsed.url) <= MAX_URL_LENGTH
        assert parse_vlog_url(parsed.url) == parsed
