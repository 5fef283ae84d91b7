"""An org on the service pack 1.0.0 (before email-to-case) upgrades to the shipped
1.1.0: the email objects, their layouts, the auto-reply template and the Email-to-case
permission set arrive, its cases stay, and mail then opens cases."""

from __future__ import annotations

import shutil

from crm_platform.mailin import CREATED, deliver
from crm_platform.packs import install, read_installed, shipped_root
from crm_platform.packs.upgrade import upgrade

from .conftest import SUPPORT
from .helpers import message, records

NEW_FILES = (
    "objects/email_message.yaml",
    "objects/email_attachment.yaml",
    "layouts/email_message.default.yaml",
    "layouts/email_attachment.default.yaml",
    "email_templates",
    "permission_sets/email_to_case.yaml",
)


def service_1_0(folder):
    """The service pack as it was before email-to-case."""
    old = folder / "service"
    shutil.copytree(shipped_root() / "service", old)
    for name in NEW_FILES:
        path = old / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in ("permission_sets/service_agent.yaml", "permission_sets/service_manager.yaml"):
        path = old / name
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if "email_" not in line))
    layout = old / "layouts/case.default.yaml"
    lines = layout.read_text().splitlines(keepends=True)
    layout.write_text("".join(line for line in lines if "email_message" not in line))
    manifest = old / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("version: 1.1.0", "version: 1.0.0"))
    return old


def test_the_service_pack_upgrades_to_email_to_case(org, load_metadata, tmp_path):
    install(org, service_1_0(tmp_path), with_sample=True)
    with org.db.read() as conn:
        assert read_installed(conn)["service"].version == "1.0.0"
    cases = len(records(org, "case"))
    assert cases > 0

    result = upgrade(org, "service")
    assert (result.from_version, result.to_version) == ("1.0.0", "1.1.0")
    with org.db.read() as conn:
        assert read_installed(conn)["service"].version == "1.1.0"
    assert len(records(org, "case")) == cases

    load_metadata("mailin")
    done = deliver(org, message(to=SUPPORT))
    assert done.outcome == CREATED and done.auto_reply is not None
    assert len(records(org, "case")) == cases + 1
