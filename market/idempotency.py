"""Idempotency keys for the back office's form posts.

The phone's outbox sends every queued form with a key (the Idempotency-Key header, or the
idempotency_key field when the browser posts the form itself). A retry after a lost answer must
not register a second vendor, product or photo: the first request with a key claims it inside
the view's own transaction, so the claim is committed exactly when the view's changes are;
a later copy finds it and gets the first answer again (where it redirected) without running the
view. Two copies at the same moment collide on the unique (user, key) constraint.
"""

import re
import time
from datetime import timedelta

from flask import Flask, abort, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from market.extensions import db
from market.models import IdempotencyKey, utcnow

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
REPLAYED_HEADER = "Idempotent-Replayed"
# A copy that arrives while the first is finishing waits this long for the first's answer.
OUTCOME_WAIT_SECONDS = 5.0
# A claim with no answer this long after it was made belongs to a request that died (gunicorn
# ends a request after 60 s): its changes were never committed, so the next copy runs anew.
ABANDONED_AFTER = timedelta(minutes=2)
RETRY_AFTER_SECONDS = 10


def register_hooks(app: Flask) -> None:
    app.before_request(_claim)
    app.after_request(_record)


def request_key() -> str | None:
    """The key of a logged-in user's POST, if it carries one; a malformed key is refused."""
    if request.method != "POST" or not current_user.is_authenticated:
        return None
    key = request.headers.get(HEADER) or request.form.get(FIELD)
    if not key:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise BadRequest("malformed idempotency key")
    return key


def _applied(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )


def _outcome(user_id: int, key: str) -> IdempotencyKey | None:
    """The applied key, once its first request has recorded where it went (its changes and
    the key are committed a moment before the answer is recorded)."""
    deadline = time.monotonic() + OUTCOME_WAIT_SECONDS
    while True:
        earlier = _applied(user_id, key)
        if (
            earlier is None
            or earlier.status_code is not None
            or _abandoned(earlier)
            or time.monotonic() > deadline
        ):
            return earlier
        # A new transaction sees the other request's commit (SQLite keeps a snapshot).
        db.session.rollback()
        time.sleep(0.05)


def _abandoned(claim: IdempotencyKey) -> bool:
    return claim.status_code is None and claim.created_at <= utcnow() - ABANDONED_AFTER


def _claim() -> Response | None:
    key = request_key()
    if key is None:
        return None
    user_id = current_user.id
    earlier = _outcome(user_id, key)
    if earlier is not None and earlier.status_code is None:
        if not _abandoned(earlier):
            return _still_running()
        db.session.delete(earlier)
        db.session.flush()
        earlier = None
    if earlier is None:
        claim = IdempotencyKey(user_id=user_id, key=key, path=request.path[:500])
        db.session.add(claim)
        try:
            # PostgreSQL makes a concurrent copy wait here until the first one commits or
            # rolls back; SQLite's write lock (BEGIN IMMEDIATE for posts) does the same earlier.
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            earlier = _outcome(user_id, key)
            if earlier is None or earlier.status_code is None:
                return _still_running()
        else:
            g.idempotency_claim_id = claim.id
            return None
    if earlier.path != request.path[:500]:
        # One key names one submission: the same key on another form is a client's mistake,
        # and answering it with the first form's outcome would drop this one unseen.
        abort(422)
    return _replay(earlier)


def _still_running() -> Response:
    """The first copy has not answered yet, and may still fail: nothing can be promised, so the
    phone keeps the item and sends it again a little later."""
    response = jsonify(error="in_progress")
    response.status_code = 409
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _replay(earlier: IdempotencyKey) -> Response:
    flash(_("This was already sent and saved; it was not saved twice."), "info")
    location = earlier.location or url_for("manage.home")
    if request.accept_mimetypes.best == "application/json":
        response = jsonify(location=location)
    else:
        response = redirect(location, code=303)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _outcome_location(response: Response) -> str | None:
    if response.location:
        return response.location
    if response.is_json:
        body = response.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("location"), str):
            return body["location"]
    return None


def _record(response: Response) -> Response:
    claim_id = g.pop("idempotency_claim_id", None)
    if claim_id is None:
        return response
    # Whatever the view left uncommitted is dropped, as the end of the request would drop it;
    # the claim survives only if the view committed it together with its changes.
    db.session.rollback()
    try:
        if response.status_code < 400:
            location = _outcome_location(response)
            db.session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == claim_id)
                .values(status_code=response.status_code, location=location and location[:500])
            )
        else:
            # Refused (invalid input, a conflict): nothing was applied, so sending the same
            # form again must be judged again.
            db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim_id))
        db.session.commit()
    except SQLAlchemyError:
        # The answer stands; a replay without a recorded outcome goes to the home page.
        db.session.rollback()
    return response
