"""The web UI: sign-in pages and the session the UI uses to call the API."""

from .login import install_login
from .transport import install_transport

__all__ = ["install_login", "install_transport"]
