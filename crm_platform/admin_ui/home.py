"""The setup home: the areas the signed-in user may open, one card each."""

from __future__ import annotations

from typing import Any

from flask_admin import AdminIndexView, expose
from flask_babel import lazy_gettext

from .base import SetupView, signed_in_with


class SetupHome(SetupView, AdminIndexView):
    """``/setup``: open to a holder of any setup permission; each area checks its own."""

    area_name = lazy_gettext("Setup")
    permission = None

    def __init__(self) -> None:
        AdminIndexView.__init__(self, name=self.area_name, endpoint="setup", url="/setup")

    @expose("/")
    def index(self) -> Any:
        areas = [
            view
            for view in self.admin._views  # the registered areas, in menu order
            if isinstance(view, SetupView) and view is not self and signed_in_with(view.permission)
        ]
        return self.page("setup/home.html", areas=areas, title=self.area_name)
