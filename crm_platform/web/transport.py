"""Where requests come from: the proxy in front, HTTPS-only cookies and HSTS, and the
origin check on cookie-authenticated writes (a second line behind the CSRF token).

- ``CRM_TRUST_PROXY=N``: N reverse proxies set ``X-Forwarded-For/-Proto/-Host``
  (werkzeug's ProxyFix), so the client's address (the login throttle), the scheme and
  the host are the real ones. Off by default: without a proxy those headers are lies
  anyone can send.
- ``CRM_SECURE_COOKIES``: ``auto`` (the default) marks cookies ``Secure`` and sends
  ``Strict-Transport-Security`` on HTTPS requests, which behind a trusted proxy means
  ``X-Forwarded-Proto: https``; ``always`` marks them on every request; ``never`` never.
- An unsafe request without an ``Authorization`` header (a browser's, authenticated by
  the session cookie, or the sign-in form) must come from the app's own origin or one of
  ``CRM_TRUSTED_ORIGINS``: its ``Origin`` header, or ``Referer`` when a browser sends no
  Origin. A request with neither is not a browser's cross-site request; the CSRF token
  still guards it. Endpoints that use no session at all (a public web form, posted from
  any site) are let through with :func:`allow_cross_site`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import Forbidden
from werkzeug.middleware.proxy_fix import ProxyFix

from crm_platform.core import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HSTS = "max-age=31536000"  # a year; subdomains are the deployment's business
DEFAULT_PORTS = {"http": 80, "https": 443}
CROSS_SITE = "crm_cross_site_endpoints"


def install_transport(app: Flask, settings: Settings) -> None:
    """ProxyFix when configured, Secure cookies with HSTS, and the origin check."""
    if settings.trust_proxy:
        n = settings.trust_proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    mode = settings.secure_cookies
    app.session_interface = _SessionCookies(mode)
    app.config["REMEMBER_COOKIE_SECURE"] = mode == "always"
    trusted = frozenset(_origin(o) for o in settings.trusted_origins) - {None}

    @app.before_request
    def _check_origin() -> None:
        if request.method not in UNSAFE_METHODS or "Authorization" in request.headers:
            return
        if request.endpoint in app.extensions.get(CROSS_SITE, ()):
            return
        sent = request.headers.get("Origin")
        if sent is None:
            referer = request.headers.get("Referer")
            if not referer:
                return
            sent = referer
        origin = _origin(sent)
        if origin is None or (origin != _origin(request.host_url) and origin not in trusted):
            raise Forbidden(
                f"a request from another origin ({sent[:100]}) may not use this session; "
                "trusted origins are set in CRM_TRUSTED_ORIGINS"
            )

    @app.after_request
    def _hsts(response: Response) -> Response:
        if request.is_secure and mode != "never":
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def allow_cross_site(app: Flask, endpoint: str) -> None:
    """Let posts from any site reach ``endpoint``: only for views that never read the
    session or act for its user (a public web form acts as its own guest user)."""
    app.extensions.setdefault(CROSS_SITE, set()).add(endpoint)


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, ``Secure`` per request as the setting says."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def get_cookie_secure(self, app: Any) -> bool:
        if self.mode == "always":
            return True
        return self.mode == "auto" and request.is_secure


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower case and without a default port; None for
    anything else (``null``, a relative URL, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
