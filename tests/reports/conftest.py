"""Fixtures of the reports tests: one seeded org per module (see shared_org)."""

from __future__ import annotations

import pytest

from tests.conftest import fresh_database_url

from .shared_org import build_org


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    """The seeded reports org of this module."""
    with fresh_database_url(tmp_path_factory.mktemp("reports")) as url:
        yield from build_org(tmp_path_factory, url)
