"""An import killed mid-way resumes where it stopped and creates no row twice; a 50 MB
file streams through with the importer's memory flat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from .helpers import records, write_csv

CRM = str(Path(sys.executable).parent / "crm")


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def _job(org) -> dict | None:
    from crm_platform.imports import import_jobs

    with org.db.read() as conn:
        row = conn.execute(sa.select(import_jobs)).mappings().first()
        return dict(row) if row else None


def test_an_import_killed_with_sigkill_resumes_without_duplicates(crm, org, database_url, tmp_path):
    rows = [["Account name", "Industry"]] + [[f"Account {i:05}", "Retail"] for i in range(20_000)]
    path = write_csv(tmp_path / "big.csv", rows)
    process = subprocess.Popen(
        [CRM, "import", str(path), "--object", "account", "--batch-size", "100"],
        env=_env(database_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its process group: the import and what it started
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            job = _job(org)
            if job is not None and job["position"] >= 2_000:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    # the process converting the file beside it (a large file) does not outlive it
    assert _group_ends(process.pid, within=30)
    job = _job(org)
    assert job["status"] == "running" and 2_000 <= job["position"] < 20_000
    # what the job says it did is exactly what landed: batch and progress commit together
    assert len(records(org, "account")) == job["created"] == job["position"]
    result = crm("import", "--resume", job["id"])
    assert f"Resuming import job {job['id']} after row {job['position'] + 1}" in result.output
    assert "20000 rows read" in result.output
    names = [name for (name,) in records(org, "account", "name")]
    assert len(names) == len(set(names)) == 20_000
    assert _job(org)["status"] == "done"


def _group_ends(group: int, within: float) -> bool:
    """Whether every process of process group ``group`` is gone within ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _peak_memory(database_url: str, tmp_path: Path, path: Path) -> int:
    """The peak resident memory (kB) of a process importing ``path``, with that of the
    process converting the file beside it."""
    script = (
        "import resource, sys\n"
        "from crm_platform.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "    print('PEAK', own + child)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "import", str(path), "--object", "account"],
        env=_env(database_url, tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert " 0 rejected" in done.stdout, done.stdout
    return int(done.stdout.rsplit("PEAK", 1)[1])


@pytest.mark.slow
def test_a_50_mb_file_streams_with_flat_memory(crm, org, database_url, tmp_path):
    header = ["Account name", "Industry", "Description"]
    # enough rows to be converted by a second process too, as the large file is
    short = [[f"Small {i}", "Retail", "x"] for i in range(6_000)]
    small = write_csv(tmp_path / "small.csv", [header, *short])
    text = "Lorem ipsum dolor sit amet, 中文描述, " * 60  # about 2 kB a row
    path = tmp_path / "big.csv"
    write_csv(path, [header] + [[f"Big {i}", "Retail", text] for i in range(24_000)])
    assert path.stat().st_size > 50_000_000
    baseline = _peak_memory(database_url, tmp_path, small)
    peak = _peak_memory(database_url, tmp_path, path)
    assert len(records(org, "account")) == 30_000
    # the file's 50 MB never sit in memory: the peak grows by far less than the file
    assert peak - baseline < 40_000, (baseline, peak)


def test_a_job_whose_file_changed_is_not_resumed(crm, org, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["Account name"], ["Acme"]])
    crm("import", path, "--object", "account", "--all-or-none")
    job = _job(org)
    with org.db.write() as conn:  # as if it had been stopped
        conn.execute(sa.text("UPDATE sys_import_job SET status = 'running'"))
    write_csv(path, [["Account name"], ["Acme"], ["Globex"]])
    result = crm("import", "--resume", job["id"], ok=False)
    assert "changed since the import started" in result.output
