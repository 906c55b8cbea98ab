"""Flask commands: create-user, seed-demo (more are added by the topics that own them)."""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, Role, User
from market.services import accounts, demo
from market.services.errors import Invalid


@click.command("create-user")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", default=None, help="Login of staff.")
@click.option("--phone", default=None, help="Login of vendors (WhatsApp number).")
@click.option("--name", default=None, help="Display name (defaults to the login).")
@click.option("--market", "market_slug", default=None, help="Assign to this market as staff.")
@click.password_option(prompt="Password", help="Asked for when not given.")
@with_appcontext
def create_user(role, email, phone, name, market_slug, password):
    """Create an account that logs in by email or phone number."""
    if bool(email) == bool(phone):
        raise click.UsageError("Give exactly one of --email or --phone.")
    market = None
    if market_slug:
        market = db.session.scalar(select(Market).where(Market.slug == market_slug))
        if market is None:
            raise click.BadParameter(f"no market with slug {market_slug!r}", param_hint="--market")
    try:
        accounts.check_password_policy(password)
        user = accounts.create_user(
            role=Role(role),
            name=name or email or phone,
            email=email,
            phone=phone,
            password=password,
            market=market,
        )
    except Invalid as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role} {user.login}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has accounts already.")
@with_appcontext
def seed_demo(if_empty):
    """Load the demo market, its vendors, products, photos and demo accounts."""
    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database has data already; demo not loaded.")
            return
        raise click.ClickException("The database has data already; the demo needs an empty one.")
    market = demo.seed_demo()
    click.echo(f"Demo market loaded: /pasar/{market.slug}/")


commands = [create_user, seed_demo]
