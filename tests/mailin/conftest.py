"""An org with the service pack (no sample data) and the inbound address
support@acme.test, whose auto-reply is the pack's ``case_received`` template."""

from __future__ import annotations

import dataclasses

import pytest

from crm_platform.core import load_settings
from crm_platform.packs import install

from ..clock import Clock

SUPPORT = "support@acme.test"


@pytest.fixture
def settings(database_url, tmp_path):
    base = load_settings(database_url, instance_path=tmp_path / "instance")
    return dataclasses.replace(base, mail_from="Acme Support <crm@acme.test>")


@pytest.fixture
def mail_org(org, load_metadata):
    install(org, "service", with_sample=False)
    load_metadata("mailin")
    org.clock = Clock()
    return org
