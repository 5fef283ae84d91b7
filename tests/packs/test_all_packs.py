"""Every shipped pack installs into one org with its sample data, and each of their
reports and dashboards runs there."""

from __future__ import annotations

from crm_platform.metadata import read_snapshot
from crm_platform.packs import read_installed

from .shipped_helpers import install_shipped, report

PACKS = ("service", "subscription", "marketing", "manufacturing")


def test_the_standard_packs_install_together_and_every_report_runs(org):
    for name in PACKS:
        install_shipped(org, name)
    with org.db.read() as conn:
        installed = set(read_installed(conn))
        snapshot = read_snapshot(conn)
    assert {"core_activities", "sales", *PACKS} <= installed
    reports = [c for c in snapshot.of_kind("report") if c.owner in PACKS]
    assert len(reports) == 15
    for comp in reports:
        result = report(org, comp.name)
        assert result.total is not None, comp.name
    dashboards = {c.name for c in snapshot.of_kind("dashboard") if c.owner in PACKS}
    assert dashboards == {"service_desk", "recurring_revenue", "marketing", "channel"}
