"""What happens on every database session without a service asking for it, in one place.

The hooks are registered on SQLAlchemy's Session class, so they hold for every session (the
request's, the CLI's, a test's); registering twice is harmless.
"""

from sqlalchemy import event
from sqlalchemy.orm import Session

from market.pagecache import forget_after_rollback, invalidate_after_commit, note_public_changes
from market.services.public import touch_on_category_change
from market.services.search import keep_index_current

SESSION_HOOKS = (
    # A vendor or product whose categories alone changed gets a new updated_at, so that the
    # cached public pages that show it are revalidated.
    ("before_flush", touch_on_category_change),
    # The session notes which markets and stalls a flush changed on public pages…
    ("after_flush", note_public_changes),
    # …and once committed, their cached pages go stale (here and in a shared cache in front),
    # and no other market's.
    ("after_commit", invalidate_after_commit),
    # A rolled-back session forgets those notes: nothing public changed.
    ("after_rollback", forget_after_rollback),
    # The search index is updated in the same transaction as the vendors and products it
    # indexes, so a search never finds a stale or deleted record.
    ("after_flush", keep_index_current),
)


def register_session_hooks() -> None:
    for name, hook in SESSION_HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
