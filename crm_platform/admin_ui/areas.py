"""The areas of setup, in menu order, and how they are mounted at ``/setup``.

Adding an area is one module and one line here:

1. a module in ``crm_platform/admin_ui/`` with a :class:`~.base.SetupView` subclass
   (``area_name``, ``area_url``, ``permission``, an optional ``area_category`` and a
   ``summary`` for the home page; ``@expose`` its pages; templates under
   ``admin_ui/templates/setup/``; forms post ``csrf_token``, which every unsafe request
   must carry);
2. its class in :data:`AREAS` below.

The view is then in the navigation, on the home page for those who may open it, and
answers 403 to everyone else.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext

from . import (
    apps,
    automation,
    builders,
    directory,
    fields,
    history,
    layouts,
    list_views,
    objects,
    packs,
    permissions,
    sharing,
)
from .base import SetupView
from .home import SetupHome

AREAS: tuple[type[SetupView], ...] = (
    objects.ObjectsView,
    fields.FieldsView,
    permissions.PermissionsView,
    sharing.SharingView,
    directory.UsersView,
    directory.TeamsView,
    layouts.LayoutsView,
    list_views.ListViewsView,
    apps.AppsView,
    builders.BuildersView,
    history.HistoryView,
    history.AuditView,
    history.LoginsView,
    automation.AutomationView,
    packs.PacksView,
)

assets = Blueprint(
    "setup_assets",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/setup-static",
)


def install_setup(app: Flask) -> Admin:
    """Mount setup at ``/setup`` on flask-admin (its bundled Bootstrap 4, jQuery and
    select2) with every area of :data:`AREAS`."""
    app.register_blueprint(assets)
    admin = Admin(
        app,
        name=lazy_gettext("Setup"),
        url="/setup",
        endpoint="setup",
        index_view=SetupHome(),
        theme=Bootstrap4Theme(base_template="setup/master.html", fluid=True),
    )
    for area in AREAS:
        admin.add_view(area())
    return admin
