"""Back office for a stall's catalogue: products, photos, vlog links, QRIS."""

from flask import Blueprint

bp = Blueprint("catalogue", __name__, url_prefix="/manage")
