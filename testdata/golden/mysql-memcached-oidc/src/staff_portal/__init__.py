"""Application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    account_actions,
    admin,
    auth,
    config,
    errors,
    extensions,
    health,
    logs,
    main,
    notes,
    security,
    security_events,
    sessions,
)


def create_app(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Flask:
    """Create the application from environment variables.

    ``environ`` defaults to the process environment; ``overrides`` replace
    individual settings (tests use both). Unsafe production settings raise
    config.ConfigError before anything is served.
    """
    app = Flask(__name__)
    settings = config.load_settings(os.environ if environ is None else environ, app.instance_path)
    settings.update(overrides or {})
    config.validate_settings(settings)
    app.config.from_mapping(settings)
    if app.debug and app.config["APP_ENV"] != "development":
        raise config.ConfigError("debug mode is only allowed with APP_ENV=development")

    proxies = app.config["FORWARDED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    # Outermost: liveness probes are answered before anything else runs.
    app.wsgi_app = health.LivenessProbe(app.wsgi_app)

    logs.init_app(app)
    extensions.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(main.bp)
    sessions.init_app(app, expired_endpoint="main.index")
    app.register_blueprint(auth.bp)
    app.register_blueprint(account_actions.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(notes.bp)
    app.register_blueprint(security_events.bp)
    security_events.init_app(app)
    extensions.skip_idle_rate_limit_check(app)
    return app
