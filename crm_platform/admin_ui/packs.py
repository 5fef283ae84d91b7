"""The packs page: packs shipped with the platform and those installed; an install's
plan as a readable diff, then the install; an upgrade's plan with its conflicts and a
choice per conflict (the pack's value or the org's); uninstall; export of the org's
configuration as a pack (a zip) — through ``crm_platform.packs``, as the API does."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import request, send_file
from flask_admin import expose
from flask_babel import gettext, lazy_gettext

from crm_platform.api.auth import end_request_reading
from crm_platform.core import NotFound, ValidationFailed
from crm_platform.packs import (
    export_changed,
    export_included,
    install,
    pack_folders,
    parse_include,
    plan,
    plan_upgrade,
    read_installed,
    shipped_packs,
    shipped_root,
    uninstall,
    upgrade,
)

from .base import SetupView

CHOICES = ("pack", "local")


def _shipped(name: str) -> str:
    if name not in pack_folders(shipped_root()):
        raise NotFound(gettext("no shipped pack '%(name)s'", name=name))
    return name


class PacksView(SetupView):
    area_name = lazy_gettext("Packs")
    area_url = "packs"
    summary = lazy_gettext("Install, upgrade, uninstall and export packs.")
    permission = "manage_packs"

    @expose("/")
    def index(self) -> Any:
        with self.org.db.read() as conn:
            installed = read_installed(conn)
        return self.page(
            "setup/packs.html",
            shipped=[pack.as_json() for pack in shipped_packs()],
            installed={p.name: p.version for p in installed.values()},
        )

    @expose("/<name>/plan")
    def plan(self, name: str) -> Any:
        """What installing the pack would do, component by component; changes nothing."""
        sample = request.args.get("with_sample_data") == "on"
        found = plan(self.org, _shipped(name), with_sample=sample)
        return self.page(
            "setup/pack_plan.html",
            title=gettext("Install %(name)s", name=name),
            name=name,
            plan=found,
            sample=sample,
        )

    @expose("/<name>/install", methods=["POST"])
    def install(self, name: str) -> Any:
        end_request_reading()
        who = self.author()
        result = install(
            self.org,
            _shipped(name),
            with_sample=request.form.get("with_sample_data") == "on",
            author_id=who,
            owner_id=who,
        )
        return self.saved(
            gettext(
                "Installed: %(components)s components, %(records)s records.",
                components=result.components,
                records=result.records,
            ),
            ".index",
        )

    @expose("/<name>/upgrade", methods=["GET", "POST"])
    def upgrade(self, name: str) -> Any:
        """The upgrade's plan and its conflicts, a choice per conflict; POST upgrades."""
        choices = {
            key.split(":", 1)[1]: value
            for key, value in request.values.items()
            if key.startswith("choice:") and value in CHOICES
        }
        if request.method == "GET":
            found = plan_upgrade(self.org, name, choices=choices)
            return self.page(
                "setup/pack_upgrade.html",
                title=gettext("Upgrade %(name)s", name=name),
                name=name,
                plan=found,
                choices=choices,
            )
        end_request_reading()
        result = upgrade(self.org, name, choices=choices, author_id=self.author())
        return self.saved(
            gettext(
                "Upgraded %(name)s from %(a)s to %(b)s.",
                name=name,
                a=result.from_version,
                b=result.to_version,
            ),
            ".index",
        )

    @expose("/<name>/uninstall", methods=["POST"])
    def uninstall(self, name: str) -> Any:
        end_request_reading()
        result = uninstall(
            self.org,
            name,
            delete_data=request.form.get("delete_data") == "on",
            author_id=self.author(),
        )
        return self.saved(gettext("Uninstalled %(name)s.", name=result.pack), ".index")

    @expose("/export", methods=["POST"])
    def export(self) -> Any:
        """The org's chosen configuration as a new pack folder, in a zip file."""
        form = request.form
        name = form.get("name", "").strip()
        if not name:
            raise ValidationFailed({"name": gettext("the new pack's name")})
        items = parse_include(
            [line.strip() for line in form.get("include", "").splitlines() if line.strip()]
        )
        since = form.get("changed_since_install", "").strip()
        version = form.get("version", "").strip() or "1.0.0"
        with tempfile.TemporaryDirectory() as tmp:
            # as the API and the CLI: a pack that installs alone into a fresh org
            if since:
                folder = export_changed(
                    self.org, Path(tmp), name=name, pack=since, include=items, version=version
                )
            else:
                folder = export_included(
                    self.org, Path(tmp), name=name, include=items, version=version
                )
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(folder.parent).as_posix())
        buffer.seek(0)
        return send_file(
            buffer, mimetype="application/zip", as_attachment=True, download_name=f"{name}.zip"
        )
