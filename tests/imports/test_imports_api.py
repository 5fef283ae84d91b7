"""Import jobs over the API, as an admin uses them: upload, poll, cancel, error file."""

from __future__ import annotations

import io

import pytest

from .helpers import records, spy_on_workers

CSV = 'Account name,Account number,Annual revenue\nAcme,A-1,"$1,000"\nBad,A-2,-5\n'


@pytest.fixture
def admin_api(api, load_metadata, org, monkeypatch):
    load_metadata("imports")
    # the jobs run when the test says so (not in the runner's thread)
    monkeypatch.setattr(org.work, "kick", lambda: None)
    return api


def _upload(api, text: str = CSV, name: str = "accounts.csv", **form):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name), "object": "account", **form}
    return api.client.post(
        "/api/v1/imports",
        data=data,
        headers={"Authorization": f"Bearer {api.token}"},
        content_type="multipart/form-data",
    )


def test_an_admin_uploads_a_file_and_polls_the_job_to_its_end(admin_api, org):
    started = _upload(admin_api)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert started.headers["Location"] == f"/api/v1/imports/{job['id']}"
    assert job["status"] == "queued" and job["total_rows"] == 2
    org.work.run_pending()
    polled = admin_api.get(f"/api/v1/imports/{job['id']}").get_json()
    assert polled["status"] == "done"
    assert (polled["rows_read"], polled["created"], polled["rejected"]) == (2, 1, 1)
    assert records(org, "account", "name") == [("Acme",)]
    errors = admin_api.get(f"/api/v1/imports/{job['id']}/errors")
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    assert "Bad,A-2,-5,row 3: Annual revenue: The annual revenue cannot be negative" in (
        errors.get_data(as_text=True)
    )
    listed = admin_api.get("/api/v1/imports").get_json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_a_job_counts_the_rows_that_left_their_record_unchanged(admin_api, org):
    first = _upload(admin_api, upsert_on="account_number").get_json()
    org.work.run_pending()
    again = _upload(admin_api, upsert_on="account_number").get_json()
    org.work.run_pending()
    polled = admin_api.get(f"/api/v1/imports/{again['id']}").get_json()
    counts = [polled[k] for k in ("rows_read", "created", "updated", "unchanged", "rejected")]
    assert counts == [2, 0, 0, 1, 1]  # Acme as it was; the bad row refused again
    assert admin_api.get(f"/api/v1/imports/{first['id']}").get_json()["unchanged"] == 0


def test_an_all_or_none_job_that_fails_shows_what_it_read_and_wrote_nothing(admin_api, org):
    job = _upload(admin_api, mode="all_or_none").get_json()
    org.work.run_pending()
    polled = admin_api.get(f"/api/v1/imports/{job['id']}").get_json()
    assert polled["status"] == "failed"
    assert (polled["rows_read"], polled["created"], polled["rejected"]) == (2, 0, 1)
    assert polled["message"] == "1 row(s) rejected: nothing was written (all or none)"
    assert records(org, "account") == []
    errors = admin_api.get(f"/api/v1/imports/{job['id']}/errors").get_data(as_text=True)
    assert "Bad,A-2,-5,row 3: Annual revenue: The annual revenue cannot be negative" in errors


def test_a_column_the_headers_cannot_place_is_a_400_with_the_mapping_to_finish(admin_api, org):
    response = _upload(admin_api, "Account name,Shoe size\nAcme,42\n")
    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"] == {"columns.Shoe size": ["no field matches this header"]}
    assert "Shoe size: {field: null}" in body["mapping"]
    assert admin_api.get("/api/v1/imports").get_json()["jobs"] == []
    mapping = (
        "object: account\ncolumns:\n  Account name: {field: name}\n  Shoe size: {field: null}\n"
    )
    started = _upload(admin_api, "Account name,Shoe size\nAcme,42\n", mapping=mapping)
    assert started.status_code == 202
    org.work.run_pending()
    assert records(org, "account", "name") == [("Acme",)]


def test_a_mapping_that_does_not_fit_is_refused_before_any_job(admin_api):
    mapping = "object: account\ncolumns:\n  Account name: {field: nothing}\n"
    response = _upload(admin_api, mapping=mapping)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {
        "columns.Account name": ["account has no field 'nothing' that an import can write"]
    }
    assert _upload(admin_api, mode="sometimes").get_json()["errors"] == {
        "mode": ["partial or all_or_none"]
    }


def test_a_job_can_be_cancelled_and_a_finished_one_cannot(admin_api, org):
    job = _upload(admin_api).get_json()
    cancelled = admin_api.post(f"/api/v1/imports/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    org.work.run_pending()
    assert records(org, "account") == []
    again = admin_api.post(f"/api/v1/imports/{job['id']}/cancel")
    assert again.status_code == 409


def test_a_running_job_stops_after_its_batch_when_cancelled(admin_api, org):
    from crm_platform.imports import jobs
    from crm_platform.imports.background import importer_for

    rows = "".join(f"Account {i},N-{i},1\n" for i in range(50))
    job_id = _upload(admin_api, "Account name,Account number,Annual revenue\n" + rows).get_json()[
        "id"
    ]
    with org.db.write() as conn:
        job = jobs.claim_next(conn)
    seen = []

    def progress(state):  # someone cancels while the first batch is written
        seen.append(state.rows_read)
        with org.db.write() as conn:
            jobs.request_cancel(conn, job_id)

    importer = importer_for(org, job, progress=progress)
    importer.options = jobs.ImportOptions(batch_size=10, background=True)
    state = importer.run(job)
    assert state.status == "cancelled" and seen == [10]
    assert len(records(org, "account")) == 10
    polled = admin_api.get(f"/api/v1/imports/{job_id}").get_json()
    assert (polled["status"], polled["rows_read"]) == ("cancelled", 10)


def test_a_large_job_converts_beside_its_writer_and_stops_it_when_cancelled(
    admin_api, org, monkeypatch
):
    from crm_platform.imports import feed, jobs
    from crm_platform.imports.background import importer_for

    monkeypatch.setattr(feed, "MIN_ROWS", 0)  # as a file of many thousand rows
    workers = spy_on_workers(monkeypatch)
    rows = "".join(f"Account {i},N-{i},1\n" for i in range(80))
    job_id = _upload(admin_api, "Account name,Account number,Annual revenue\n" + rows).get_json()[
        "id"
    ]
    with org.db.write() as conn:
        job = jobs.claim_next(conn)

    def progress(state):  # cancelled once the worker's first batch is written
        if state.rows_read == 40:
            with org.db.write() as conn:
                jobs.request_cancel(conn, job_id)

    importer = importer_for(org, job, progress=progress)
    importer.options = jobs.ImportOptions(batch_size=10, background=True)
    assert importer.run(job).status == "cancelled"
    assert len(workers) == 1 and workers[0].poll() is not None  # it did not outlive the job
    assert len(records(org, "account")) == 40
    with org.db.read() as conn:
        stopped = jobs.get_job(conn, job_id)
    resumed = importer_for(org, stopped)
    resumed.options = jobs.ImportOptions(batch_size=10, background=True)
    assert resumed.run(stopped).status == "done"
    names = sorted(name for (name,) in records(org, "account", "name"))
    assert names == sorted(f"Account {i}" for i in range(80))
    polled = admin_api.get(f"/api/v1/imports/{job_id}").get_json()
    assert (polled["status"], polled["rows_read"], polled["created"]) == ("done", 80, 80)


def test_imports_need_an_administrator(admin_api, make_user):
    rep = make_user("rep@example.com", profile=None)
    assert _upload(rep).status_code == 403
    assert rep.get("/api/v1/imports").status_code == 403


def test_the_import_endpoints_are_in_the_openapi_document(admin_api):
    paths = admin_api.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/imports"]) == {"get", "post"}
    assert "multipart/form-data" in paths["/imports"]["post"]["requestBody"]["content"]
    assert {"/imports/{id}", "/imports/{id}/cancel", "/imports/{id}/errors"} <= set(paths)


def test_the_error_file_of_a_job_a_later_import_wrote_over_is_a_409_naming_it(
    admin_api, org, tmp_path
):
    from crm_platform.imports import Importer, ImportOptions, Source, infer
    from crm_platform.runtime import find_user
    from tests.conftest import ADMIN_EMAIL

    path = tmp_path / "accounts.csv"
    path.write_text(CSV, encoding="utf-8")
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)

    def import_it():  # as `crm import accounts.csv` does, twice from the same folder
        source = Source(path)
        importer = Importer(
            org, admin, source, infer(org, source, "account").mapping, ImportOptions()
        )
        job = importer.start()
        importer.run(job)
        return job.id

    first, second = import_it(), import_it()
    replaced = admin_api.get(f"/api/v1/imports/{first}/errors")
    assert replaced.status_code == 409
    assert replaced.get_json()["detail"] == (
        f"import job {second} wrote its rejected rows over this job's error file"
    )
    latest = admin_api.get(f"/api/v1/imports/{second}/errors")
    assert latest.status_code == 200
    assert "A-1" in latest.get_data(as_text=True)  # its external id is taken now
