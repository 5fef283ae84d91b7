"""``/api/docs``: interactive API documentation (Swagger UI) of the caller's own OpenAPI
document, for a signed-in person.

The Swagger UI assets come from an installed package (``flask-swagger-ui``, which ships
Swagger UI's ``dist`` folder): no CDN, nothing copied into this repository. The page
fetches ``/api/v1/openapi.json`` with the browser's session cookie, so the document is
the one the API gives this user; "Try it out" sends the page's CSRF token on unsafe
methods, as every session-authenticated API call must.
"""

from __future__ import annotations

from importlib.metadata import version
from importlib.resources import files
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user

SWAGGER_UI_PACKAGE = "flask_swagger_ui"

bp = Blueprint("apidocs", __name__, template_folder="templates")


def _assets_folder() -> str:
    """Swagger UI's dist folder inside the installed package."""
    return str(files(SWAGGER_UI_PACKAGE).joinpath("dist"))


@bp.get("/api/docs")
def docs() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("web.login", next=request.path))
    return render_template(
        "apidocs.html",
        document_url="/api/v1/openapi.json",
        swagger_ui_version=version("flask-swagger-ui"),
    )


@bp.get("/api/docs/assets/<path:filename>")
def assets(filename: str) -> Any:
    """Swagger UI's scripts and stylesheets (public, cacheable, the same for everyone)."""
    return send_from_directory(_assets_folder(), filename, max_age=86400)
