"""A pytest plugin (loaded by conftest): everything the app logs during the whole run must not
hold personal data or secrets; the run fails when a log line does."""

import logging
import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.factories import PASSWORD

# Passwords that tests type (the demo accounts' too); none may ever reach a log line.
PASSWORDS_IN_TESTS = (
    PASSWORD,
    "pasar-demo-2026",
    "ukiran enggang dari Balikpapan",
    "pasar malam di kebun sayur",
    "pasar pagi yang ramai",
    "a long first password",
    "not the password",
    "wrong password",
)
LEAKS = {
    "phone number": re.compile(
        r"(?<![\w.])(?:\+?62|0)8\d{2}[- ]?\d{3,4}[- ]?\d{3,5}(?!\d)|\+\d{10,15}(?!\d)"
    ),
    # Invitation, CSRF and session tokens: long URL-safe strings mixing cases and digits
    # (content hashes are lower-case hex, identifiers have no such mix).
    "token": re.compile(r"(?<![\w-])(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*\d)[\w-]{32,}(?![\w-])"),
}
# The process that starts the run names the file; pytest-xdist's workers inherit the name and
# append to the same file, and the starting process scans it once they have all finished.
_LOG_FILE_VARIABLE = "PASAR_TEST_LOG_FILE"
_LOG_HANDLER = pytest.StashKey[logging.Handler]()
_LOG_OWNER = pytest.StashKey[Path]()


def pytest_configure(config):
    """Everything the app logs (the `market` logger is Flask's app.logger too), at every level,
    also goes to a file scanned at the end. Not on the root logger: Alembic's logging setup
    replaces the root's handlers whenever a test migrates a database; and it closes every
    handler, which a file handler in append mode survives by opening the file again."""
    log_file = os.environ.get(_LOG_FILE_VARIABLE)
    if log_file is None:
        log_file = str(Path(tempfile.gettempdir()) / f"pasar-test-log-{os.getpid()}.txt")
        os.environ[_LOG_FILE_VARIABLE] = log_file
        Path(log_file).write_text("")
        config.stash[_LOG_OWNER] = Path(log_file)
    handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    app_log = logging.getLogger("market")
    app_log.addHandler(handler)
    app_log.setLevel(logging.DEBUG)
    config.stash[_LOG_HANDLER] = handler


def log_leaks(text: str) -> list[str]:
    """Lines of a log that carry a phone number, a password used in the tests, or a token."""
    found = []
    for line in text.splitlines():
        kinds = [kind for kind, pattern in LEAKS.items() if pattern.search(line)]
        kinds += ["password"] * any(password in line for password in PASSWORDS_IN_TESTS)
        if kinds:
            found.append(f"{', '.join(kinds)}: {line[:200]}")
    return found


def pytest_sessionfinish(session, exitstatus):
    handler = session.config.stash.get(_LOG_HANDLER, None)
    if handler is None:
        return
    logging.getLogger("market").removeHandler(handler)
    handler.close()
    log_file = session.config.stash.get(_LOG_OWNER, None)
    if log_file is None:
        return
    del os.environ[_LOG_FILE_VARIABLE]
    leaks = log_leaks(log_file.read_text(encoding="utf-8", errors="replace"))
    log_file.unlink(missing_ok=True)
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the app logged personal data or secrets:\n  " + "\n  ".join(leaks[:20])
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
