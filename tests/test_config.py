"""Configuration: environment settings, the secret key, SQLite pragmas."""

import pytest
from sqlalchemy import text

from market import create_app
from market.config import ConfigError, load_settings
from market.extensions import db


def test_production_refuses_a_missing_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.delenv("MARKET_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="MARKET_SECRET_KEY"):
        load_settings(str(tmp_path))


@pytest.mark.parametrize("secret", ["short", "dev-" + "x" * 60])
def test_production_refuses_a_weak_or_development_secret(monkeypatch, tmp_path, secret):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("MARKET_SECRET_KEY", secret)
    with pytest.raises(ConfigError):
        load_settings(str(tmp_path))


def test_production_with_a_real_secret_has_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("MARKET_SECRET_KEY", "s" * 64)
    settings = load_settings(str(tmp_path))
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True


def test_development_secret_is_generated_once_into_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("MARKET_SECRET_KEY", raising=False)
    monkeypatch.delenv("MARKET_ENV", raising=False)
    first = load_settings(str(tmp_path))["SECRET_KEY"]
    second = load_settings(str(tmp_path))["SECRET_KEY"]
    assert first == second
    assert len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_given_secret_writes_nothing_into_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("MARKET_SECRET_KEY", raising=False)
    monkeypatch.delenv("MARKET_ENV", raising=False)
    settings = load_settings(str(tmp_path / "instance"), {"SECRET_KEY": "t" * 40})
    assert settings["SECRET_KEY"] == "t" * 40
    assert not (tmp_path / "instance").exists()


def test_the_test_config_reaches_the_settings_before_instance_is_touched(monkeypatch, tmp_path):
    """create_app hands its test_config to load_settings, so the app of a test never generates
    the development secret into the project's instance/ folder."""
    monkeypatch.delenv("MARKET_SECRET_KEY", raising=False)
    monkeypatch.delenv("MARKET_ENV", raising=False)

    def refuse(path):
        raise AssertionError(f"wrote a secret into {path}")

    monkeypatch.setattr("market.config._development_secret", refuse)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "SECRET_KEY": "x" * 40,
            "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
        }
    )
    assert app.config["SECRET_KEY"] == "x" * 40
    with app.app_context():
        db.engine.dispose()


def test_embedded_defaults_live_under_instance(monkeypatch, tmp_path):
    for name in ("MARKET_DATABASE_URL", "MARKET_STORAGE_URL", "MARKET_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'market.sqlite3'}"
    assert settings["MARKET_STORAGE_URL"] == f"file://{tmp_path / 'uploads'}"
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("MARKET_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("MARKET_REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = load_settings(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "SECRET_KEY": "x" * 40,
            "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
        }
    )
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
