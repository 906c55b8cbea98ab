"""Serve the app with gunicorn on a free loopback port, as `make run` does, for tests that need
real processes (browser journeys, several workers sharing Redis, concurrency and faults)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "market"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(folder: Path, **settings: str) -> dict[str, str]:
    """Environment for a fresh installation whose state lives in `folder`."""
    env = {
        **os.environ,
        "MARKET_DATABASE_URL": f"sqlite:///{folder / 'market.sqlite3'}",
        "MARKET_STORAGE_URL": f"file://{folder / 'uploads'}",
        "MARKET_SECRET_KEY": "live-test-" + "k" * 60,
        **settings,
    }
    env.pop("MARKET_TEST_DATABASE_URL", None)
    return env


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(FLASK + list(args), env=env, cwd=ROOT, check=True, capture_output=True)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer at {url}")


@contextmanager
def serve(env: dict[str, str], workers: int = 1, threads: int = 8, log: list | None = None):
    """Yield the base URL of gunicorn serving the app; stderr lines are appended to `log`."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--no-control-socket",
        "--bind",
        f"127.0.0.1:{port}",
        "market:create_app()",
    ]
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/", process)
        yield url
    finally:
        process.terminate()
        try:
            _out, errors = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, errors = process.communicate()
        if log is not None:
            log.extend(errors.decode(errors="replace").splitlines())
