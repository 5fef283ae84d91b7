"""The setup UI for admins and consultants (DESIGN §3 "Pages people work in", issue 14),
mounted at ``/setup`` on flask-admin.

It lives inside ``crm_platform`` (not as a top-level ``admin_ui`` package): the wheel
ships one top-level package, and a top-level ``admin_ui`` could collide with another
distribution's module of that name. It builds on everything below it (metadata,
runtime, web's sign-in) and nothing imports it but the app factory.

Every page calls the metadata service or the directory services with the signed-in
user, as the API does; each save is one change set (one revision). See ``areas`` for how
an area is added.
"""

from .areas import AREAS, install_setup

__all__ = ["AREAS", "install_setup"]
