"""The README's "Feeds, mentions and follows" runs as written: its shell blocks, in one
shell, against a live server (SQLite, or PostgreSQL with ``CRM_TEST_DATABASE_URL``),
every curl answered without an error status except the one the README says is refused,
and the notices it shows are the ones people get."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.readme import run_script, section_script

HEADING = "## Feeds, mentions and follows"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the section uses curl")
def test_the_feeds_section_runs_as_written(live_server, admin_token, database_url, tmp_path):
    script = section_script(HEADING, port=live_server)
    done = run_script(
        script,
        tmp_path,
        timeout=300,
        TOKEN=admin_token,
        CRM_DATABASE_URL=database_url,
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "ann mentioned you on Deal “Acme renewal”: @lee @sam: price ok?" in out
    assert '"notifications":[]' in out.replace(" ", "")  # Sam's
    assert "Sam: refused" in out and '"status":404' in out.replace(" ", "")
    assert "Administrator changed Deal “Acme renewal”: Stage: Won" in out
    assert "lee commented on Deal “Acme renewal”: Yes, send it" in out
    assert "margin" not in out.lower().split("administrator changed")[1].split('"')[0]
    # the post's JSON, which the README tees to stderr, starts the line with its "mentions"
    line = done.stderr.rfind("\n", 0, done.stderr.index('"mentions"')) + 1
    posted = json.JSONDecoder().raw_decode(done.stderr, line)[0]
    assert [(m["name"], m["delivered"]) for m in posted["mentions"]] == [
        ("lee", True),
        ("sam", False),
    ]
    feed = json.JSONDecoder().raw_decode(out, out.rindex('{"posts"'))[0]
    assert [c["body"] for c in feed["posts"][0]["comments"]] == ["Yes, send it"]
