"""An installation that ran the first release keeps its data through every migration since.

The rows are written with the first migration's own schema (read back from the database, not
from today's models), then `db upgrade` runs to head, on SQLite or, when MARKET_TEST_DATABASE_URL
is set, on PostgreSQL (CI does both). That there is one head, and that head matches the models,
is tests/test_migrations.py's job.
"""

from datetime import UTC, date, datetime

from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, func, inspect, select

from market import create_app
from market.extensions import db
from market.models import AuditEvent, Market, Photo, Product, User, Vendor, VlogLink
from market.ops import backup
from market.services.search import search_market
from tests.reliability_helpers import CHEAP_HASHING, database_of_its_own

FIRST = "0001"
THEN = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
STAMPS = {"created_at": THEN, "updated_at": THEN}


def first_release_rows(connection) -> None:
    """A market as the first release left it: staff, a published stall, a live and a deleted
    product, a photo, a vlog link, a WhatsApp tap and the audit trail."""
    tables = MetaData()

    def insert(table_name: str, /, **values) -> int:
        table = Table(table_name, tables, autoload_with=connection)
        result = connection.execute(table.insert().values(**values))
        return result.inserted_primary_key[0] if result.inserted_primary_key else 0

    category = connection.execute(
        select(Table("category", tables, autoload_with=connection).c.id).where(
            tables.tables["category"].c.slug == "makanan"
        )
    ).scalar_one()
    market = insert(
        "market",
        slug="pasar-inpres-kebun-sayur",
        name="Pasar Inpres Kebun Sayur",
        city="Balikpapan",
        province="Kalimantan Timur",
        address="Jl. Jend. Sudirman",
        description="Oleh-oleh khas Kalimantan",
        opening_hours="08.00-17.00",
        published=True,
        **STAMPS,
    )
    volunteer = insert(
        "user",
        email="relawan@example.org",
        name="Relawan Pertama",
        password_hash="scrypt:1024:8:1$salt$hash",
        role="volunteer",
        locale="id",
        active=True,
        session_version=1,
        **STAMPS,
    )
    insert("market_staff", market_id=market, user_id=volunteer, role="volunteer")
    vendor = insert(
        "vendor",
        market_id=market,
        slug="amplang-bu-sri",
        business_name="Amplang Bu Sri",
        owner_name="Sri Wahyuni",
        stall_block="B",
        stall_number="12",
        whatsapp="+6281200000001",
        description="Amplang ikan pipih, renyah",
        opening_hours="",
        status="published",
        hidden_reason="",
        consent_at=THEN,
        consent_by_id=volunteer,
        consent_version="2026-01",
        onboarded_by_id=volunteer,
        published_at=THEN,
        version=3,
        **STAMPS,
    )
    insert("vendor_category", vendor_id=vendor, category_id=category)
    product_fields = {
        "vendor_id": vendor,
        "description": "",
        "price_kind": "fixed",
        "price_note": "per bungkus",
        "availability": "in_stock",
        "halal": True,
        "permit_number": "PIRT 1234567890123",
        "material": "",
        "hidden_reason": "",
        "version": 2,
        **STAMPS,
    }
    product = insert(
        "product",
        slug="amplang-kepiting",
        name="Amplang kepiting",
        price_idr=25000,
        position=0,
        **product_fields,
    )
    insert(
        "product",
        slug="kerupuk-ikan-lama",
        name="Kerupuk ikan lama",
        price_idr=15000,
        position=1,
        deleted_at=THEN,
        **product_fields,
    )
    insert("product_category", product_id=product, category_id=category)
    insert(
        "photo",
        vendor_id=vendor,
        product_id=product,
        content_hash="ab" + "c" * 62,
        original_bytes=123456,
        width=1600,
        height=1200,
        variants=[400, 800, 1600],
        alt_text="Amplang kepiting",
        position=0,
        **STAMPS,
    )
    insert(
        "vlog_link",
        vendor_id=vendor,
        url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        platform="youtube",
        video_id="dQw4w9WgXcQ",
        title="Bikin amplang",
        position=0,
        **STAMPS,
    )
    insert("contact_click", vendor_id=vendor, product_id=product, day=date(2026, 1, 15), count=7)
    insert(
        "audit_event",
        created_at=THEN,
        actor_id=volunteer,
        action="vendor.publish",
        record_type="vendor",
        record_id=vendor,
        market_id=market,
        changes={"status": ["draft", "published"]},
        reason="",
    )


def test_the_first_release_upgrades_to_head_with_its_data(tmp_path):
    with database_of_its_own(tmp_path, "upgrade") as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
                "SECRET_KEY": "upgrade-test-" + "x" * 40,
                "MARKET_PASSWORD_METHOD": CHEAP_HASHING,
                "MARKET_PAGE_CACHE": False,
            }
        )
        with app.app_context():
            upgrade(revision=FIRST)
            with db.engine.begin() as connection:
                first_release_rows(connection)
            # Only the tables of the first release exist yet; the later ones start empty.
            first_tables = set(inspect(db.engine).get_table_names()) & set(db.metadata.tables)
            before = {
                name: db.session.scalar(select(func.count()).select_from(db.metadata.tables[name]))
                for name in first_tables
            }
            # End the read: on SQLite it would keep seeing the schema it started with.
            db.session.rollback()

            upgrade()

            config = app.extensions["migrate"].migrate.get_config()
            assert (
                backup.current_revision() == ScriptDirectory.from_config(config).get_current_head()
            )
            after = backup.row_counts()
            assert {name: after[name] for name in before} == before
            added = {name: count for name, count in after.items() if name not in before}
            # Reference data arrives with its migration; every other new table starts empty.
            assert added.pop("synonym") > 0
            assert added == dict.fromkeys(added, 0)
            market = db.session.scalar(select(Market))
            vendor = db.session.scalar(select(Vendor))
            assert (vendor.business_name, vendor.stall_label, vendor.version) == (
                "Amplang Bu Sri",
                "Blok B No. 12",
                3,
            )
            assert [c.slug for c in vendor.categories] == ["makanan"]
            live = db.session.scalar(select(Product).where(Product.deleted_at.is_(None)))
            assert (live.name, live.price_idr, live.halal, live.price_note) == (
                "Amplang kepiting",
                25000,
                True,
                "per bungkus",
            )
            assert db.session.scalar(select(Photo)).key(800).endswith("-800.webp")
            assert db.session.scalar(select(VlogLink)).video_id == "dQw4w9WgXcQ"
            assert db.session.scalar(select(AuditEvent)).changes == {
                "status": ["draft", "published"]
            }
            assert db.session.scalar(select(User)).staff_assignments[0].market_id == market.id
            assert db.session.scalar(select(func.count(Product.id))) == 2
            # Migration 0002 indexed what was there: search finds the old stall and its live
            # product, and not the product deleted before the upgrade.
            found = search_market(market, "amplang")
            assert [v.slug for v in found.vendors] == ["amplang-bu-sri"]
            assert [p.slug for p in found.products] == ["amplang-kepiting"]
            assert search_market(market, "kerupuk").products == []
            db.session.remove()
            db.engine.dispose()
