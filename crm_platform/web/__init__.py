"""The web UI: sign-in pages, the end-user app's pages and the session they share with the API."""

from .i18n import install_i18n
from .login import install_login
from .pages import install_pages
from .transport import install_transport

__all__ = ["install_i18n", "install_login", "install_pages", "install_transport"]
