"""Where the app's log goes (stderr, one line per record, in UTC), unless the host process
has configured logging itself."""

import logging
import sys
import time


class OneLineFormatter(logging.Formatter):
    """UTC times, and CR/LF in a message (a request path, say) shown escaped, so that no input
    can start a forged line; a traceback below a message keeps its lines."""

    converter = time.gmtime

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


def log_to_stderr() -> None:
    """Send the app's own log (security events included) to stderr, in UTC, where gunicorn
    and systemd collect it, unless the host process has configured logging itself. Without
    this, Python drops INFO records, and with them every security event."""
    app_log = logging.getLogger("market")
    if app_log.level == logging.NOTSET:
        app_log.setLevel(logging.INFO)
    if logging.getLogger().handlers or app_log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        OneLineFormatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    app_log.addHandler(handler)
    # The rate limiter says here when Redis is away and it counts in the process instead.
    logging.getLogger("flask-limiter").addHandler(handler)
