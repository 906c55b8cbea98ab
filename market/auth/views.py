"""Login by email or phone number, logout, password change."""

import time
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from market.auth.forms import ChangePasswordForm, JoinForm, LoginForm, SetPasswordForm
from market.extensions import db, limiter, login_manager
from market.models import LinkPurpose, User
from market.permissions import login_required
from market.services import account_links, accounts, invitations
from market.services.audit import security_event
from market.services.errors import Invalid, NotFound
from market.services.vendors import InvalidFields
from market.services.whatsapp import display_phone

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Wrong invitation links per address: enough for typos, far too few to guess 256-bit tokens.
CLAIM_FAILURE_LIMIT = "10 per hour"

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Sessions name the user and their session version: bumping it logs every session out."""
    user_id, _sep, version = user_key.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    now = int(time.time())
    idle_limit = current_app.config["MARKET_SESSION_IDLE_MINUTES"] * 60
    started = session.get("started", now)
    absolute_limit = current_app.config["PERMANENT_SESSION_LIFETIME"]
    if now - session.get("seen", now) > idle_limit or now - started > absolute_limit:
        session.clear()
        return None
    # Rewriting the cookie at most once a minute keeps idle tracking without a write per request.
    if now - session.get("seen", 0) > 60:
        session["seen"] = now
    return user


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: no scheme, no host, no backslashes or control characters, also
    once percent-decoded (some browsers decode before they resolve)."""
    if not target:
        return None
    for candidate in (target, unquote(target)):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
        if "\\" in candidate or any(ord(ch) < 32 or ord(ch) == 127 for ch in candidate):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target


def home_for(user: User) -> str:
    return url_for("manage.home")


def _login_key() -> str:
    # Keyed on the account, not the spelling: otherwise each way of writing a phone number
    # would get its own allowance of guesses.
    return "login:" + (accounts.account_key(request.form.get("login", "")) or request.remote_addr)


def _failed(response) -> bool:
    return response.status_code == 200 and request.method == "POST"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["MARKET_LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["MARKET_LOGIN_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data, form.password.data)
        except accounts.SwitchedOff as error:
            security_event("login_refused_switched_off", None, ip=request.remote_addr)
            flash(str(error), "error")
            return render_template("auth/login.html", form=form)
        if user is not None:
            session.clear()
            login_user(user)
            session["started"] = session["seen"] = int(time.time())
            security_event("login", user)
            return redirect(safe_next(form.next.data) or home_for(user))
        security_event("login_failed", None, ip=request.remote_addr)
        flash(_("The login or the password is wrong."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        security_event("logout", user)
        logout_user()
        accounts.end_sessions(user)
    session.clear()
    flash(_("You are logged out."), "info")
    response = redirect(url_for("storefront.index"))
    # Nothing of this user stays on the phone (the back office's cached pages, drafts and
    # outbox), also when the page's own script did not run.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except accounts.WrongPassword as error:
            form.current.errors.append(str(error))
        except Invalid as error:
            form.password.errors.append(str(error))
        else:
            # The change ended every session, this one too: log in again with the new version.
            login_user(user)
            flash(_("Your password is changed."), "success")
            return redirect(home_for(user))
    return render_template("auth/password.html", form=form)


@bp.route("/undangan/<token>", methods=["GET", "POST"])
@limiter.limit(CLAIM_FAILURE_LIMIT, deduct_when=lambda response: response.status_code == 404)
def claim(token: str):
    """A vendor's invitation: set a password, then land on their own stall."""
    invitation = invitations.find_usable(token)
    form = SetPasswordForm()
    if invitation is not None and form.validate_on_submit():
        try:
            user = invitations.claim(token, form.password.data)
        except NotFound:
            invitation = None
        except Invalid as error:
            form.password.errors.append(str(error))
        else:
            session.clear()
            login_user(user)
            session["started"] = session["seen"] = int(time.time())
            security_event("login", user, via="invitation")
            flash(
                _(
                    "Your password is set. Next time, log in with your WhatsApp number %(login)s.",
                    login=display_phone(user.login),
                ),
                "success",
            )
            return redirect(url_for("manage.vendor", vendor_id=invitation.vendor_id))
    if invitation is None:
        security_event("invitation_refused", None, ip=request.remote_addr)
    response = make_response(
        render_template(
            "auth/claim.html",
            form=form,
            invitation=invitation,
            login=display_phone(invitations.login_for(invitation.vendor))
            if invitation is not None
            else "",
        ),
        200 if invitation is not None else 404,
    )
    # The token is in the path: no Referer may carry it to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _start_session(user: User, via: str) -> None:
    session.clear()
    login_user(user)
    session["started"] = session["seen"] = int(time.time())
    security_event("login", user, via=via)


def _token_page(template: str, status: int, **context):
    response = make_response(render_template(template, **context), status)
    # The token is in the path: no Referer may carry it to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/gabung/<token>", methods=["GET", "POST"])
@limiter.limit(CLAIM_FAILURE_LIMIT, deduct_when=lambda response: response.status_code == 404)
def join(token: str):
    """A new volunteer or coordinator makes their account from the link their coordinator sent."""
    link = account_links.find_usable(token, LinkPurpose.JOIN)
    form = JoinForm()
    if link is not None and form.validate_on_submit():
        try:
            user = account_links.join(
                token, name=form.name.data, login=form.login.data, password=form.password.data
            )
        except NotFound:
            link = None
        except InvalidFields as error:
            for name, message in error.errors.items():
                getattr(form, name).errors.append(str(message))
        else:
            _start_session(user, "join link")
            flash(
                _("Welcome to %(market)s. You are logged in.", market=link.market.name), "success"
            )
            return redirect(home_for(user))
    if link is None:
        security_event("account_link_refused", None, ip=request.remote_addr)
    return _token_page("auth/join.html", 200 if link else 404, form=form, link=link)


@bp.route("/sandi-baru/<token>", methods=["GET", "POST"])
@limiter.limit(CLAIM_FAILURE_LIMIT, deduct_when=lambda response: response.status_code == 404)
def reset(token: str):
    """Set a new password with the link a coordinator or volunteer made."""
    link = account_links.find_usable(token, LinkPurpose.RESET)
    form = SetPasswordForm()
    if link is not None and form.validate_on_submit():
        try:
            user = account_links.reset(token, form.password.data)
        except NotFound:
            link = None
        except Invalid as error:
            form.password.errors.append(str(error))
        else:
            _start_session(user, "reset link")
            flash(_("Your password is changed."), "success")
            return redirect(home_for(user))
    if link is None:
        security_event("account_link_refused", None, ip=request.remote_addr)
    return _token_page(
        "auth/reset.html",
        200 if link else 404,
        form=form,
        link=link,
        login=(display_phone(link.user.phone) if link.user.phone else link.user.login)
        if link
        else "",
    )
