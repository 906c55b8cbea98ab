"""Coordinator and admin pages."""

from flask import Blueprint, render_template
from flask_login import current_user

from market.permissions import coordinator_required, manageable_markets

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@coordinator_required
def index():
    return render_template("admin/index.html", markets=manageable_markets(current_user))
