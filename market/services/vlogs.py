"""Links to vendors' own videos: their platform, the video id, and a safe URL to keep."""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from flask_babel import lazy_gettext as _l

from market.models.media import VlogPlatform

MAX_URL_LENGTH = 500  # the VlogLink.url column

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_TIKTOK_ID = re.compile(r"[0-9]{5,25}")
_TIKTOK_USER = re.compile(r"@[A-Za-z0-9._]{1,64}")
_INSTAGRAM_CODE = re.compile(r"[A-Za-z0-9_-]{5,64}")
_FACEBOOK_ID = re.compile(r"[0-9]{5,25}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A public name with a real top-level domain: no IP addresses, no "localhost", no intranet names.
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})")
# Path and query characters kept as they are; everything else is percent-encoded, so the kept
# URL is plain ASCII and cannot break out of an HTML attribute even if someone forgets escaping.
_PATH_SAFE = "/%:@!$&()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"

_PLATFORM_DOMAINS = {
    VlogPlatform.YOUTUBE: ("youtube.com", "youtu.be", "youtube-nocookie.com"),
    VlogPlatform.TIKTOK: ("tiktok.com",),
    VlogPlatform.INSTAGRAM: ("instagram.com", "instagr.am"),
    VlogPlatform.FACEBOOK: ("facebook.com", "fb.watch", "fb.com"),
}
# t=1h2m3s, t=1m30s, t=90s or t=90.
_START_TIME = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?")
_MAX_START = 24 * 3600
# 11-character path words that would otherwise pass for YouTube ids after /embed/.
_YOUTUBE_NOT_IDS = frozenset({"videoseries", "live_stream"})


class VlogRejected(ValueError):
    """A link that cannot be kept; ``message`` is translatable and fit to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class ParsedVlog:
    url: str
    platform: VlogPlatform
    video_id: str | None


def _incomplete() -> VlogRejected:
    return VlogRejected(
        _l("That link looks incomplete. Copy it again with the app's Share button.")
    )


def _not_a_link() -> VlogRejected:
    return VlogRejected(_l("That does not look like a link to a web page."))


def parse_vlog_url(raw: str) -> ParsedVlog:
    """Check a pasted video link of YouTube, TikTok, Instagram or Facebook and recognise it.

    Links without a scheme get https; http is upgraded; a YouTube start time (t=1m30s,
    start=90) is kept. Refused with VlogRejected: links to any other site, other schemes
    (javascript:, data:, file:, …), credentials in the host, spaces or control characters,
    IP addresses, overlong links.
    """
    text = (raw or "").strip()
    if not text:
        raise VlogRejected(_l("Paste the link to the video."))
    if len(text) > MAX_URL_LENGTH:
        raise _too_long()
    # Browsers skip or reinterpret these (a tab inside "java\tscript:", "\" read as "/"), so
    # a link containing one could mean something else to them than to us.
    if "\\" in text or any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in text):
        raise _not_a_link()
    text = _with_scheme(text)

    try:
        parts = urlsplit(text)
        if "@" in parts.netloc:
            raise VlogRejected(_l("Links with a user name or password in them cannot be added."))
        host = _clean_host(parts.hostname or "")
        port = parts.port
    except ValueError as exc:
        # urlsplit refuses malformed hosts ("[::1", look-alike characters that decompose to
        # "/" or "@"); .port refuses non-numeric and out-of-range ports.
        if isinstance(exc, VlogRejected):
            raise
        raise _not_a_link() from None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = quote(parts.path, safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    kept = f"https://{netloc}{path}" + (f"?{query}" if query else "")

    platform = _platform_of(host)
    if platform == VlogPlatform.OTHER:
        # A shopper trusts what a stall page links to: only the platforms Pasar recognises
        # (and can name on the button) are kept, never a look-alike page of any other site.
        raise VlogRejected(
            _l("Only links to YouTube, TikTok, Instagram or Facebook videos can be added.")
        )
    parsed = _PARSERS[platform](host, path, query, kept)
    if len(parsed.url) > MAX_URL_LENGTH:
        raise _too_long()
    return parsed


def _too_long() -> VlogRejected:
    return VlogRejected(
        _l("That link is too long (at most %(max)s characters).", max=MAX_URL_LENGTH)
    )


def _with_scheme(text: str) -> str:
    match = _SCHEME.match(text)
    if match:
        scheme = match.group(1).lower()
        if scheme in ("http", "https"):
            return text
        # "www.youtube.com:443/watch?v=…" has no scheme: a host and a port.
        if "." in scheme and re.match(r"\d+(?:[/?#]|$)", text[match.end() :]):
            return f"https://{text}"
        raise VlogRejected(_l("Only web links (starting with https://) can be added."))
    # "//host/…" and "/path" are relative references, not links someone can open from a phone.
    if text.startswith("/"):
        raise _not_a_link()
    return f"https://{text}"


def _clean_host(host: str) -> str:
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _not_a_link() from None
    if not _HOSTNAME.fullmatch(host):
        raise _not_a_link()
    return host


def _platform_of(host: str) -> VlogPlatform:
    # A whole-label suffix match: "m.youtube.com" is YouTube, "youtube.com.evil.example" and
    # "evilyoutube.com" are not.
    for platform, domains in _PLATFORM_DOMAINS.items():
        if any(host == domain or host.endswith(f".{domain}") for domain in domains):
            return platform
    return VlogPlatform.OTHER


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _first_query_value(query: str, name: str) -> str | None:
    values = parse_qs(query).get(name)
    return values[0] if values else None


def _youtube(host: str, path: str, query: str, kept: str) -> ParsedVlog:
    segments = _segments(path)
    if host == "youtu.be" or host.endswith(".youtu.be"):
        candidate, shorts = (segments[0] if segments else None), False
    elif segments and segments[0] == "watch":
        candidate, shorts = _first_query_value(query, "v"), False
    elif segments and segments[0] in ("shorts", "live", "embed", "v", "e"):
        if segments[0] == "embed" and len(segments) > 1 and segments[1] in _YOUTUBE_NOT_IDS:
            return ParsedVlog(kept, VlogPlatform.YOUTUBE, None)
        candidate, shorts = (segments[1] if len(segments) > 1 else None), segments[0] == "shorts"
    else:
        # A channel, playlist or search page: still YouTube, but nothing to embed.
        return ParsedVlog(kept, VlogPlatform.YOUTUBE, None)
    if not candidate or not _YOUTUBE_ID.fullmatch(candidate):
        raise _incomplete()
    # The canonical form drops share trackers (si=, feature=, pp=) and mobile hosts, but keeps
    # the moment the vendor chose to start at. Shorts have no start time.
    if shorts:
        return ParsedVlog(
            f"https://www.youtube.com/shorts/{candidate}", VlogPlatform.YOUTUBE, candidate
        )
    start = _start_seconds(query)
    return ParsedVlog(
        f"https://www.youtube.com/watch?v={candidate}" + (f"&t={start}s" if start else ""),
        VlogPlatform.YOUTUBE,
        candidate,
    )


def _start_seconds(query: str) -> int:
    """YouTube's start time: t=90, t=90s, t=1m30s, t=1h2m3s or start=90; 0 when absent."""
    for name in ("t", "start"):
        value = _first_query_value(query, name)
        if value is None:
            continue
        match = _START_TIME.fullmatch(value)
        if match and any(match.groups()):
            hours, minutes, seconds = (int(part or 0) for part in match.groups())
            return min(hours * 3600 + minutes * 60 + seconds, _MAX_START)
    return 0


def start_seconds(url: str) -> int:
    """The start time kept in a YouTube link made by parse_vlog_url; 0 for none."""
    return _start_seconds(urlsplit(url).query)


def _tiktok(host: str, path: str, query: str, kept: str) -> ParsedVlog:
    segments = _segments(path)
    if host in ("vt.tiktok.com", "vm.tiktok.com") or segments[:1] == ["t"]:
        # Short share links redirect to the video; the id is only known after following them.
        if len(segments) < (2 if segments[:1] == ["t"] else 1):
            raise _incomplete()
        return ParsedVlog(kept, VlogPlatform.TIKTOK, None)
    if len(segments) >= 2 and segments[1] == "video" and segments[0].startswith("@"):
        video_id = segments[2] if len(segments) > 2 else ""
        if not _TIKTOK_ID.fullmatch(video_id):
            raise _incomplete()
        if _TIKTOK_USER.fullmatch(segments[0]):
            kept = f"https://www.tiktok.com/{segments[0]}/video/{video_id}"
        return ParsedVlog(kept, VlogPlatform.TIKTOK, video_id)
    if segments[:1] == ["v"] and len(segments) == 2:
        # The old mobile form: m.tiktok.com/v/<id>.html
        video_id = segments[1].removesuffix(".html")
        if _TIKTOK_ID.fullmatch(video_id):
            return ParsedVlog(kept, VlogPlatform.TIKTOK, video_id)
    if segments[:1] == ["embed"]:
        video_id = segments[-1]
        if _TIKTOK_ID.fullmatch(video_id):
            return ParsedVlog(kept, VlogPlatform.TIKTOK, video_id)
        raise _incomplete()
    return ParsedVlog(kept, VlogPlatform.TIKTOK, None)


_INSTAGRAM_KINDS = {"reel": "reel", "reels": "reel", "p": "p", "tv": "tv"}


def _instagram(host: str, path: str, query: str, kept: str) -> ParsedVlog:
    segments = _segments(path)
    # Both /reel/<code>/ and the newer /<user>/reel/<code>/ point at the same post.
    for start in (0, 1):
        kind = _INSTAGRAM_KINDS.get(segments[start]) if len(segments) > start else None
        if kind is None or (start == 1 and segments[0] in _INSTAGRAM_KINDS):
            continue
        code = segments[start + 1] if len(segments) > start + 1 else ""
        # /<user>/reels/ is a profile's reels tab; /reels/audio/… is a sound, not a post.
        if (start == 1 and not code) or (segments[start] == "reels" and code == "audio"):
            break
        if not _INSTAGRAM_CODE.fullmatch(code):
            raise _incomplete()
        return ParsedVlog(f"https://www.instagram.com/{kind}/{code}/", VlogPlatform.INSTAGRAM, code)
    return ParsedVlog(kept, VlogPlatform.INSTAGRAM, None)


def _facebook(host: str, path: str, query: str, kept: str) -> ParsedVlog:
    segments = _segments(path)
    if host == "fb.watch" or host.endswith(".fb.watch"):
        # fb.watch codes are short links, not video ids.
        if not segments:
            raise _incomplete()
        return ParsedVlog(kept, VlogPlatform.FACEBOOK, None)
    video_id: str | None = None
    if segments[:1] in (["watch"], ["video.php"]):
        video_id = _first_query_value(query, "v")
        if video_id is None and segments == ["watch"]:
            # The Watch home page, not a video.
            return ParsedVlog(kept, VlogPlatform.FACEBOOK, None)
        video_id = video_id or ""
    elif segments[:1] == ["reel"]:
        video_id = segments[1] if len(segments) > 1 else ""
    elif "videos" in segments[1:2]:
        # /<page>/videos/<id>/ or /<page>/videos/<title-slug>/<id>/
        rest = segments[2:]
        if not rest:
            return ParsedVlog(kept, VlogPlatform.FACEBOOK, None)
        video_id = next((s for s in reversed(rest) if _FACEBOOK_ID.fullmatch(s)), "")
    if video_id is None:
        return ParsedVlog(kept, VlogPlatform.FACEBOOK, None)
    if not _FACEBOOK_ID.fullmatch(video_id):
        raise _incomplete()
    if segments[:1] == ["reel"]:
        return ParsedVlog(
            f"https://www.facebook.com/reel/{video_id}", VlogPlatform.FACEBOOK, video_id
        )
    return ParsedVlog(
        f"https://www.facebook.com/watch/?v={video_id}", VlogPlatform.FACEBOOK, video_id
    )


_PARSERS = {
    VlogPlatform.YOUTUBE: _youtube,
    VlogPlatform.TIKTOK: _tiktok,
    VlogPlatform.INSTAGRAM: _instagram,
    VlogPlatform.FACEBOOK: _facebook,
}


def _checked_youtube_id(video_id: str) -> str:
    if not isinstance(video_id, str) or not _YOUTUBE_ID.fullmatch(video_id):
        raise ValueError(f"Not a YouTube video id: {video_id!r}")
    return video_id


def youtube_embed(video_id: str, start: int = 0) -> str:
    """The privacy-enhanced player, started when the shopper taps the facade (at ``start``
    seconds)."""
    embed = f"https://www.youtube-nocookie.com/embed/{_checked_youtube_id(video_id)}?autoplay=1"
    return embed + (f"&start={int(start)}" if start > 0 else "")
