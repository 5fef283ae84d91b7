"""The record page's panels and file fields, through the Flask test client: a rep
uploads a contract in the edit form and downloads it (others may not: the record or the
field is hidden from them); the API uploads and writes the same way; a purged record's
file is gone while a deleted one keeps it; the activity timeline lists what was logged
against the record, newest first, with "log a …" pre-filling the link; the approval
panel submits, and the approver decides with a comment from the record page."""

from __future__ import annotations

import io
import re
from html import unescape
from types import SimpleNamespace

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token
from tests.web.records_org import build_records_org
from tests.web.sales_org import MANAGER_EMAIL, OTHER_EMAIL
from tests.web.test_pages import field_error, sign_in, text

PDF = b"%PDF-1.4 the signed contract"


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    instance = tmp_path_factory.mktemp("instance")
    with fresh_database_url(tmp_path_factory.mktemp("panels")) as url:
        settings = load_settings(url, instance_path=instance)
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_records_org(org)
        app = create_app(settings, org=org)
        api = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
        yield SimpleNamespace(org=org, app=app, api=api, instance=instance, **vars(data))
        org.dispose()


@pytest.fixture(scope="module")
def rep(sales):
    return sign_in(sales.app)


def stored_files(sales) -> list[str]:
    return sorted(p.name for p in (sales.instance / "files").rglob("*.bin"))


def edit_form(client, deal_id: str) -> dict:
    form = text(client.get(f"/r/opportunity/{deal_id}/edit"))
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    return {"csrf_token": client.token, "version": version, "name": "Deal with contract"}


def test_a_rep_uploads_a_file_in_the_form_and_downloads_it(sales, rep):
    deal = sales.deals[5]
    form = text(rep.get(f"/r/opportunity/{deal['id']}/edit"))
    assert 'type="file"' in form and 'accept=".pdf,text/plain"' in form
    assert 'enctype="multipart/form-data"' in form
    assert 'name="nda"' not in form  # hidden from reps

    refused = rep.post(
        f"/r/opportunity/{deal['id']}/edit",
        data={**edit_form(rep, deal["id"]), "contract": (io.BytesIO(b"MZ..."), "tool.exe")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert field_error(text(refused), "contract")[0].startswith("this kind of file is not")
    assert 'value="Deal with contract"' in text(refused)  # what was typed is kept
    too_big = rep.post(
        f"/r/opportunity/{deal['id']}/edit",
        data={**edit_form(rep, deal["id"]), "contract": (io.BytesIO(b"x" * 3000), "big.txt")},
        content_type="multipart/form-data",
    )
    assert field_error(text(too_big), "contract") == ["the file is larger than 2000 bytes"]

    saved = rep.post(
        f"/r/opportunity/{deal['id']}/edit",
        data={**edit_form(rep, deal["id"]), "contract": (io.BytesIO(PDF), "signed.pdf")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302, text(saved)
    page = text(rep.get(f"/r/opportunity/{deal['id']}"))
    link = f"/r/opportunity/{deal['id']}/files/contract"
    assert f'href="{link}"' in page and "signed.pdf</a>" in page
    download = rep.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    other = sign_in(sales.app, OTHER_EMAIL)  # the deal is not shared with them
    assert other.get(link).status_code == 404
    assert rep.get(f"/r/opportunity/{deal['id']}/files/nda").status_code == 404
    api_download = sales.api.get(f"/api/v1/records/opportunity/{deal['id']}/files/contract")
    assert api_download.status_code == 200 and api_download.data == PDF


def test_a_failed_send_keeps_the_uploaded_file(sales, rep):
    created = rep.post(
        "/o/opportunity/new",
        data={
            "csrf_token": rep.token,
            "name": "Big one",
            "amount": "20000",  # the layout's required_if asks for an email
            "contract": (io.BytesIO(PDF), "terms.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert created.status_code == 400
    html = text(created)
    kept = re.search(r'name="contract__file" value="([^"]+)"', html).group(1)
    assert kept.endswith("/terms.pdf") and "terms.pdf (kept until you save)" in unescape(html)
    again = rep.post(
        "/o/opportunity/new",
        data={
            "csrf_token": rep.token,
            "name": "Big one",
            "amount": "20000",
            "contact_email": "cfo@example.com",
            "contract__file": kept,
        },
    )
    assert again.status_code == 302, text(again)
    record_id = again.headers["Location"].rsplit("/", 1)[1]
    assert rep.get(f"/r/opportunity/{record_id}/files/contract").data == PDF


def test_the_api_uploads_then_writes_and_refuses_someone_elses_file(sales):
    uploaded = sales.api.post(
        "/api/v1/files/opportunity/contract",
        data={"file": (io.BytesIO(PDF), "api.pdf")},
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    value = uploaded.get_json()["value"]
    assert uploaded.get_json()["size"] == len(PDF)
    refused = sales.api.post(
        "/api/v1/files/opportunity/contract", data={"file": (io.BytesIO(b"x"), "x.exe")}
    )
    assert refused.status_code == 400 and "contract" in refused.get_json()["errors"]

    made = sales.api.post("/api/v1/records/opportunity", json={"name": "By API", "contract": value})
    assert made.status_code == 201, made.get_json()
    # the same file in a second record, or a made-up value: refused
    second = sales.api.post("/api/v1/records/opportunity", json={"name": "Copy", "contract": value})
    assert second.status_code == 400 and "contract" in second.get_json()["errors"]
    forged = sales.api.post(
        "/api/v1/records/opportunity", json={"name": "Forged", "contract": "x/../../etc"}
    )
    assert forged.status_code == 400
    rep = sign_in(sales.app)  # the rep names the admin's file in their own record
    deal = sales.deals[6]["id"]
    theirs = rep.post(
        f"/r/opportunity/{deal}/edit", data={**edit_form(rep, deal), "contract__file": value}
    )
    assert theirs.status_code == 400
    assert field_error(text(theirs), "contract") == [
        "not a file uploaded for this field: upload it first"
    ]


def test_a_file_stays_in_the_recycle_bin_and_goes_with_a_purge(sales):
    uploaded = sales.api.post(
        "/api/v1/files/opportunity/contract", data={"file": (io.BytesIO(PDF), "bin.pdf")}
    ).get_json()
    made = sales.api.post(
        "/api/v1/records/opportunity", json={"name": "Binned", "contract": uploaded["value"]}
    ).get_json()
    file_id = uploaded["value"].split("/")[0]
    assert f"{file_id}.bin" in stored_files(sales)
    assert sales.api.delete(f"/api/v1/records/opportunity/{made['id']}").status_code == 204
    assert f"{file_id}.bin" in stored_files(sales)  # in the bin: kept
    purged = sales.api.delete(f"/api/v1/records/opportunity/{made['id']}?purge=true")
    assert purged.status_code == 204, purged.get_json()
    assert f"{file_id}.bin" not in stored_files(sales)


def test_the_timeline_lists_activities_newest_first_with_log_actions(sales, rep):
    deal = sales.deals[7]
    for subject in ("Call the buyer", "Send the quote"):
        made = sales.api.post(
            "/api/v1/records/task",
            json={"subject": subject, "opportunity": deal["id"], "owner_id": sales.rep.id},
        )
        assert made.status_code == 201, made.get_json()
    sales.api.post(
        "/api/v1/records/note",
        json={"title": "Met at the fair", "opportunity": deal["id"], "owner_id": sales.rep.id},
    )
    sales.api.post(
        "/api/v1/records/task",
        json={"subject": "Other deal's task", "opportunity": sales.deals[8]["id"]},
    )
    page = text(rep.get(f"/r/opportunity/{deal['id']}"))
    timeline = re.search(r'<section class="card mb-3 timeline".*?</section>', page, re.S).group(0)
    entries = re.findall(r'<a href="/r/(?:task|note)/[^"]+">([^<]+)</a>', timeline)
    assert entries == ["Met at the fair", "Send the quote", "Call the buyer"]
    assert f'href="/o/task/new?opportunity={deal["id"]}"' in timeline
    assert f'href="/o/note/new?opportunity={deal["id"]}"' in timeline
    new_task = text(rep.get(f"/o/task/new?opportunity={deal['id']}"))
    assert re.search(rf'<option value="{deal["id"]}"\s+selected', new_task)


def test_the_approver_decides_from_the_record_page(sales, rep):
    deal = sales.deals[9]
    page = text(rep.get(f"/r/opportunity/{deal['id']}"))
    assert "Submit for approval" in page
    submitted = rep.post(
        f"/r/opportunity/{deal['id']}/approval/submit",
        data={"csrf_token": rep.token, "comment": "Please look at the discount"},
    )
    assert submitted.status_code == 302
    waiting = text(rep.get(f"/r/opportunity/{deal['id']}"))
    assert "Submitted for approval." in waiting and "Pending" in waiting
    assert "Approve</button>" not in waiting  # the rep is not the approver

    manager = sign_in(sales.app, MANAGER_EMAIL)
    home = text(manager.get("/"))
    assert f'<a href="/r/opportunity/{deal["id"]}">{deal["name"]}</a>' in home
    assert "submitted by Rita Rep" in home
    forged = rep.post(
        f"/r/opportunity/{deal['id']}/approval/approve", data={"csrf_token": rep.token}
    )
    assert forged.status_code == 302
    assert "you are not an approver of step" in text(rep.get(f"/r/opportunity/{deal['id']}"))
    approved = manager.post(
        f"/r/opportunity/{deal['id']}/approval/approve",
        data={"csrf_token": manager.token, "comment": "Fine by me"},
    )
    assert approved.status_code == 302
    after = text(manager.get(f"/r/opportunity/{deal['id']}"))
    history = re.search(r'<ol class="list-unstyled approval-history.*?</ol>', after, re.S).group(0)
    assert "Mona Manager" in history and "approved" in history and "Fine by me" in history
    assert "Rita Rep" in history and "Please look at the discount" in history
    assert sales.deals[9]["owner_id"] not in history  # names, never ids
    state = sales.api.get(f"/api/v1/records/opportunity/{deal['id']}/approval").get_json()
    assert state["requests"][0]["status"] == "approved"
