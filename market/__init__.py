"""Pasar: take the stalls of a traditional market online. create_app() wires the parts together."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from market import idempotency, web
from market.config import load_settings
from market.events import register_session_hooks
from market.extensions import (
    babel,
    cache,
    compress,
    configure_postgresql,
    configure_sqlite,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
)
from market.extras import require_extra
from market.logs import log_to_stderr
from market.pagecache import PageCache
from market.templating import register_template_helpers

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_settings(app.instance_path, test_config))
    log_to_stderr()
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_session_hooks()
    register_template_helpers(app)
    web.register_request_hooks(app)
    idempotency.register_hooks(app)
    web.register_error_handlers(app)
    register_middleware(app)
    return app


def register_extensions(app: Flask) -> None:
    if app.config["MARKET_REDIS_URL"]:
        require_extra("redis", "redis", "MARKET_REDIS_URL")
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine, app.config["MARKET_SQLITE_BUSY_TIMEOUT_MS"])
        configure_postgresql(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    limiter.init_app(app)
    compress.init_app(app)
    cache.init_app(app)
    web.register_storage(app)


def register_blueprints(app: Flask) -> None:
    from market.admin.views import bp as admin_bp
    from market.api.views import bp as api_bp
    from market.auth.views import bp as auth_bp
    from market.campaigns.views import bp as campaigns_bp
    from market.catalogue.views import bp as catalogue_bp
    from market.manage.views import bp as manage_bp
    from market.offline.views import bp as offline_bp
    from market.quick.views import bp as quick_bp
    from market.shopping.views import bp as shopping_bp
    from market.storefront.views import bp as storefront_bp

    app.register_blueprint(storefront_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(quick_bp)
    app.register_blueprint(shopping_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(api_bp)


def register_cli(app: Flask) -> None:
    from market.cli import commands

    for command in commands:
        app.cli.add_command(command)


def register_middleware(app: Flask) -> None:
    app.wsgi_app = PageCache(app)
    web.serve_static(app)
    hops = app.config["MARKET_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
