"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, jsonify

from .admin_ui import install_setup
from .api import build_api_blueprint
from .api.gate import install_input_gate
from .api.jsonio import ExactJSONProvider
from .api.problems import install_problem_handlers
from .assembly import open_org
from .core import Settings, load_settings
from .core.crypto import load_secret_key
from .portal import install_portal
from .runtime import Org
from .web import install_i18n, install_login, install_pages, install_transport
from .webforms.public import install_web_forms
from .workflow import automation_of


def create_app(settings: Settings | None = None, org: Org | None = None) -> Flask:
    """Build the app for one org. The org's engine is created here, in the serving process."""
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.json = ExactJSONProvider(app)
    app.config.update(
        SECRET_KEY=load_secret_key(settings),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
    )
    app.extensions["crm_org"] = org or open_org(settings)
    install_problem_handlers(app)
    install_input_gate(app)  # first: before sign-in, CSRF and every blueprint
    install_transport(app, settings)
    install_i18n(app)
    install_login(app)
    install_pages(app)
    install_web_forms(app)
    install_portal(app)
    install_setup(app)
    app.register_blueprint(build_api_blueprint())
    resumed = []

    @app.before_request
    def _resume_background_work() -> None:
        # once per process, after any fork: work a stopped process left unfinished
        if not resumed:
            resumed.append(True)
            app.extensions["crm_org"].work.kick()

    @app.get("/healthz")
    def health():  # unauthenticated liveness probe for load balancers
        return jsonify({"status": "ok"})

    return app


def create_serving_app() -> Flask:
    """The app as a server process runs it (``crm serve``, or gunicorn with
    ``'crm_platform.app:create_serving_app()'``), built after the fork: with no broker it
    also starts the in-process scheduler, so automation runs planned for later (scheduled
    triggers, retries) run when they fall due."""
    app = create_app()
    automation_of(app.extensions["crm_org"]).start_scheduler()
    return app
