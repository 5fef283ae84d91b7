"""The README's "Export, backup and restore" section runs as written: its first block
builds the demo org, exports, backs up and moves the org (to PostgreSQL when the tests
run there, else to a second SQLite file), its second block exports through the API of a
live server on the moved org."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import ON_POSTGRES, fresh_database_url, make_token
from tests.readme import run_script, section_blocks

HEADING = "## Export, backup and restore"
PLACEHOLDER = "postgresql://crm@localhost/crm_moved"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_export_backup_and_restore_section_runs_as_written(tmp_path):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    commands, api = section_blocks(HEADING)
    assert PLACEHOLDER in commands
    with fresh_database_url(tmp_path / "moved") if ON_POSTGRES else _sqlite(tmp_path) as url:
        done = run_script(commands.replace(PLACEHOLDER, f"'{url}'"), tmp_path, HOME=str(tmp_path))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "the same won deals after the move" in done.stdout
        assert re.search(r"wrote [1-9]\d* opportunity records to won.csv", done.stdout)
        assert (tmp_path / "team.xlsx").stat().st_size > 0
        assert "restored" in done.stdout

        settings = load_settings(url, instance_path=tmp_path / "instance")
        org = open_org(settings)
        server = make_server("127.0.0.1", 0, create_app(settings, org=org), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            script = api.replace("localhost:8080", f"127.0.0.1:{server.server_port}")
            token = make_token(org, "admin@example.com")
            done = run_script(script, tmp_path, HOME=str(tmp_path), TOKEN=token)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            org.dispose()
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        (exported,) = tmp_path.glob("opportunity-*.jsonl")
        lines = exported.read_text("utf-8").splitlines()
        assert lines and all('"stage"' in line for line in lines)


class _sqlite:
    """The moved org's URL on SQLite: a second file beside the demo's."""

    def __init__(self, folder: Path) -> None:
        self.url = f"sqlite:///{folder / 'moved.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None
