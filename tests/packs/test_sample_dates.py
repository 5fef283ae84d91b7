"""Sample data stays around the day it is installed: a pack's ``sample_as_of`` day moves
its sample dates forward by whole weeks (weekdays, and so business hours, kept)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from importlib import resources

from crm_platform.packs.manifest import manifest_problems, parse_manifest

from ..clock import Clock
from .shipped_helpers import all_records, install_shipped


def written_close_dates() -> dict[str, date]:
    """The opportunities' close dates as the sales pack's sample file writes them."""
    sample = resources.files("crm_platform.packs") / "shipped/sales/sample/opportunity.csv"
    with sample.open(encoding="utf-8") as handle:
        return {r["name"]: date.fromisoformat(r["close_date"]) for r in csv.DictReader(handle)}


def test_installed_weeks_later_the_sample_dates_move_by_whole_weeks(org):
    # the sales sample is written for Wednesday 2026-12-02; installed 23 days later
    org.clock = Clock(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    install_shipped(org, "sales")
    written = written_close_dates()
    installed = {
        r["name"]: date.fromisoformat(str(r["close_date"])) for r in all_records(org, "opportunity")
    }
    assert installed.keys() == written.keys()
    assert {installed[name] - written[name] for name in written} == {timedelta(days=21)}
    assert all(installed[n].weekday() == written[n].weekday() for n in written)


def test_installed_on_its_day_the_sample_is_as_written(org):
    org.clock = Clock(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))  # less than a week later
    install_shipped(org, "sales")
    installed = {r["name"]: str(r["close_date"]) for r in all_records(org, "opportunity")}
    assert installed == {name: day.isoformat() for name, day in written_close_dates().items()}


def test_sample_as_of_must_be_a_day():
    raw = {"name": "acme", "version": "1.0.0", "sample_as_of": "next tuesday"}
    assert ("sample_as_of", "not a day (such as 2026-12-02)") in manifest_problems(raw)
    raw["sample_as_of"] = date(2026, 12, 2)  # as YAML reads it
    assert manifest_problems(raw) == []
    assert parse_manifest(raw).sample_shift(date(2027, 1, 1)) == timedelta(weeks=4)
    assert parse_manifest(raw).as_dict()["sample_as_of"] == "2026-12-02"
