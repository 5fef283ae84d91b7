"""The web UI: sign-in pages, the end-user app's pages and the session they share with the API."""

from .login import install_login
from .pages import install_pages
from .transport import install_transport

__all__ = ["install_login", "install_pages", "install_transport"]
