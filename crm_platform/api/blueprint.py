"""Assembles /api/v1: authentication first, then each area's blueprint."""

from __future__ import annotations

from flask import Blueprint, Response, g

from .areas import AREAS
from .auth import authenticate_request, end_request_reading, require_api_access
from .duplicates_api import add_duplicate_warnings, start_collecting_warnings
from .params import refuse_unknown_query_params


def build_api_blueprint() -> Blueprint:
    """The /api/v1 blueprint; every endpoint under it requires an API token."""
    api = Blueprint("api_v1", __name__, url_prefix="/api/v1")

    @api.before_request
    def _authenticate() -> None:
        g.crm_user = authenticate_request()
        require_api_access()
        refuse_unknown_query_params()
        start_collecting_warnings()

    @api.after_request
    def _no_content_has_no_type(response: Response) -> Response:
        # A 204 has no body, so it names no media type (Flask's default is text/html).
        if response.status_code == 204:
            response.headers.pop("Content-Type", None)
            response.headers.pop("Content-Length", None)
        return response

    api.after_request(add_duplicate_warnings)

    # the read transaction authentication opened (and a read view used) ends here
    api.teardown_request(end_request_reading)

    for area in AREAS:
        api.register_blueprint(area.blueprint)
    return api
