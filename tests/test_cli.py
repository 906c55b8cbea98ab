"""The flask commands of DESIGN.md's contract."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, MarketStaff, Product, Role, User, Vendor
from market.services import accounts
from market.services.search import search_market
from tests.factories import make_market


def test_create_user_with_email_and_market(runner, ctx):
    market = make_market()
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "volunteer",
            "--email",
            "Ana@Example.org",
            "--market",
            market.slug,
            "--password",
            "pasar kebun sayur pagi",
        ]
    )
    assert result.exit_code == 0, result.output
    user = accounts.find_by_login("ana@example.org")
    assert user.role == Role.VOLUNTEER
    assert [a.market_id for a in user.staff_assignments] == [market.id]


def test_create_user_by_phone_asks_for_the_password(runner, ctx):
    result = runner.invoke(
        args=["create-user", "--role", "vendor", "--phone", "0812-3456-7890"],
        input="pasar kebun sayur pagi\npasar kebun sayur pagi\n",
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("+62 812 3456 7890", "pasar kebun sayur pagi") is not None


def test_create_user_refuses_a_weak_password_and_unknown_market(runner, ctx):
    weak = runner.invoke(
        args=[
            "create-user",
            "--role",
            "admin",
            "--email",
            "a@example.org",
            "--password",
            "12345678",
        ]
    )
    assert weak.exit_code != 0
    unknown = runner.invoke(
        args=[
            "create-user",
            "--role",
            "volunteer",
            "--email",
            "b@example.org",
            "--market",
            "nope",
            "--password",
            "pasar kebun sayur pagi",
        ]
    )
    assert unknown.exit_code != 0
    assert db.session.scalar(select(func.count(User.id))) == 0


@pytest.mark.slow
def test_seed_demo_loads_the_market_of_the_design(runner, ctx):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    market = db.session.scalar(select(Market).where(Market.slug == "pasar-inpres-kebun-sayur"))
    assert market.city == "Balikpapan" and market.province == "Kalimantan Timur"
    vendors = db.session.scalar(select(func.count(Vendor.id)).where(Vendor.market_id == market.id))
    products = db.session.scalar(
        select(func.count(Product.id)).join(Vendor).where(Vendor.market_id == market.id)
    )
    assert vendors >= 8 and products >= 40
    for login in (
        "admin@example.org",
        "koordinator@example.org",
        "relawan@example.org",
        "0812-0000-0001",
    ):
        assert accounts.authenticate(login, "pasar-demo-2026") is not None, login
    # The second market adds no account, and the demo staff stay staff of the first only.
    assert db.session.scalar(select(func.count(User.id))) == 4
    assert {s.market_id for s in db.session.scalars(select(MarketStaff))} == {market.id}
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output


def test_seed_demo_adds_a_second_market_in_the_same_city(runner, ctx):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    first, second = db.session.scalars(
        select(Market).where(Market.published.is_(True)).order_by(Market.id)
    ).all()
    assert second.slug == "pasar-klandasan" and second.city == first.city
    assert second.cover_photo_id is not None
    vendors = db.session.scalars(select(Vendor).where(Vendor.market_id == second.id)).all()
    assert len(vendors) >= 5 and all(v.is_public and v.photos for v in vendors)
    products = [p for v in vendors for p in v.products]
    assert len(products) >= 20 and all(p.photos for p in products)

    def names(market):
        rows = db.session.scalars(
            select(Product.name).join(Vendor).where(Vendor.market_id == market.id)
        )
        return {name.casefold() for name in rows}

    # Amplang, and goods of the same kind, are sold in both markets: the city search compares.
    for word in ("amplang", "manik", "madu kelulut", "cumi asin"):
        assert any(word in name for name in names(first)), word
        assert any(word in name for name in names(second)), word


def test_seed_bench_adds_searchable_catalogue(runner, ctx):
    result = runner.invoke(
        args=["seed-bench", "--markets", "2", "--vendors", "3", "--products", "4"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Product.id))) == 2 * 3 * 4
    market = db.session.scalars(select(Market).order_by(Market.id)).first()
    found = search_market(market, "lapak")
    assert found.vendors


def test_backup_command_reports_what_it_saved(runner, ctx, tmp_path):
    if db.engine.dialect.name != "sqlite":
        result = runner.invoke(args=["backup", str(tmp_path / "b")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    make_market()
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "rows" in result.output and (tmp_path / "b" / "manifest.json").exists()
