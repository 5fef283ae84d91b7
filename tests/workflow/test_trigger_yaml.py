"""Triggers in YAML folders: `crm metadata apply` takes them, `dump` writes them back,
and applying the dump again changes nothing."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from crm_platform.cli import main
from tests.conftest import FIXTURES


def test_apply_dump_and_apply_again_changes_nothing(database_url, tmp_path):
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def crm(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    crm("init", "--admin-password", "S3cure-pass!")
    crm("metadata", "apply", str(FIXTURES / "automation"))
    assert "Applied 2 changes" in crm("metadata", "apply", str(FIXTURES / "automation_triggers"))
    dumped = crm("metadata", "dump", str(tmp_path / "out"))
    assert "Nothing to change" in crm("metadata", "apply", str(tmp_path / "out"))

    files = sorted(Path(line).name for line in dumped.split() if "/triggers/" in line)
    assert files == ["opportunity.closing_soon.yaml", "opportunity.won.yaml"]
    written = yaml.safe_load((tmp_path / "out/triggers/opportunity.won.yaml").read_text())
    given = yaml.safe_load(
        (FIXTURES / "automation_triggers/triggers/opportunity.won.yaml").read_text()
    )
    assert written == given
