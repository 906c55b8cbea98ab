"""Back-office home: the markets and vendors a person may work on."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import Role, Vendor
from market.permissions import login_required, staffed_markets

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.route("/")
@login_required
def home():
    if current_user.role == Role.VENDOR:
        stalls = db.session.scalars(
            select(Vendor)
            .where(Vendor.owner_id == current_user.id, Vendor.deleted_at.is_(None))
            .options(selectinload(Vendor.market))
        ).all()
        return render_template("manage/vendor_home.html", stalls=stalls)
    markets = staffed_markets(current_user)
    return render_template("manage/home.html", markets=markets)
