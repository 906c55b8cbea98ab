"""Builders shared by the catalogue tests: a market with one person of each role, photos made
with Pillow, and reading a form back out of a page as a browser would submit it."""

import io
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from PIL import ExifTags, Image

from market.extensions import db
from market.services.photos import Upload, add_photos
from market.services.qris import save_qris
from market.services.vlog_links import add_vlog
from tests.conftest import (
    IsolatedClient,
    csrf_token,
    login,
    make_market,
    make_people,
    make_product,
    make_vendor,
)

# Who may work on the catalogue of `world["vendor"]`: its owner and the staff of its market.
ALLOWED = ("vendor", "volunteer", "coordinator", "admin")
DENIED = ("other_vendor", "other_volunteer", "other_coordinator")


@pytest.fixture
def en(ctx):
    """An app context whose messages are English, as services see them outside a request."""
    with force_locale("en"):
        yield


def another_client(app):
    """A second browser with its own cookies; its requests isolated as the `client` fixture's."""
    app.test_client_class = IsolatedClient
    return app.test_client()


def build_world() -> dict:
    """A vendor with an owner, a product, photos and a vlog; one person of each role."""
    market = make_market()
    other_market = make_market()
    vendor = make_vendor(market)
    neighbour = make_vendor(market)
    people = make_people(market, other_market)
    vendor.owner = people["vendor"]
    # The most likely intruder: the stall next door, in the same market.
    neighbour.owner = people["other_vendor"]
    db.session.commit()
    product = make_product(vendor, name="Amplang kepiting")
    volunteer = people["volunteer"]
    add_photos(vendor, [Upload("stall.jpg", jpeg(colour=(10, 90, 160)))], actor=volunteer)
    add_photos(product, [Upload("a.jpg", jpeg(colour=(200, 30, 30)))], actor=volunteer)
    add_photos(product, [Upload("b.jpg", jpeg(colour=(30, 200, 30)))], actor=volunteer)
    vlog = add_vlog(vendor, "https://youtu.be/dQw4w9WgXcQ", actor=volunteer)
    save_qris(
        vendor,
        actor=volunteer,
        merchant_name="AMPLANG BU SRI",
        upload=Upload("qris.png", qris_sticker()),
    )
    return {
        "market": market,
        "vendor": vendor,
        "neighbour": neighbour,
        "product": product,
        "stall_photo": vendor.photos[0],
        "product_photos": list(product.photos),
        "vlog": vlog,
        "people": people,
    }


def reload() -> None:
    """End the test's own transaction, so that its next read sees what requests committed.

    expire_all() is not enough on SQLite: a read transaction keeps the snapshot it started
    with (WAL), and cannot write once a request has committed after it began."""
    db.session.commit()


def log_in_english(client, user) -> None:
    client.get("/?lang=en")  # remembered in a cookie: the pages' words are English
    response = login(client, user.login)
    assert response.status_code == 302, response.get_data(as_text=True)


def token(client) -> str:
    return csrf_token(client, "/auth/login")


# --- images --------------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(size: tuple[int, int] = (480, 360), colour=(200, 120, 40), **params) -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG", **params)


def phone_jpeg_with_gps() -> bytes:
    """A landscape-stored photo that the camera marks 'rotate 90° clockwise' (orientation 6),
    with a red mark in the stored top-left corner, GPS coordinates and a camera make."""
    im = Image.new("RGB", (600, 400), (240, 240, 240))
    im.paste((220, 0, 0), (0, 0, 120, 120))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMakerX"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 14.0, 20.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 49.0, 47.0)
    return encode(im, "JPEG", exif=exif.tobytes(), quality=92)


def qris_sticker(seed: str = "00020101021126") -> bytes:
    """A PNG with a QR code on it, like a photo of a QRIS sticker."""
    import segno

    buf = io.BytesIO()
    segno.make(seed, error="m").save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


def open_image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# --- forms in pages -------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the form whose action is ``action``."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def _add(self, name: str | None, value: str) -> None:
        if name:
            self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        action = attrs.get("action", "").split("#")[0]
        if tag == "form" and not self.found and action == self.action:
            self.inside = self.found = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self._add(name, attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self._add(name, "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value", ""))

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            if self._textarea:
                # Browsers drop the newline that follows <textarea>.
                self.values[self._textarea][-1] = self.values[self._textarea][-1].removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


def form_values(html: str, action: str) -> dict[str, list[str] | str]:
    """The fields of the form posting to ``action``, single values unwrapped."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form posting to {action}"
    return {k: v if len(v) > 1 else v[0] for k, v in reader.values.items()}
