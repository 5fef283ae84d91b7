"""Merging duplicates: the master keeps the chosen values, the others' children move to
it through the record service, the others go to the recycle bin with their history, and
restoring a merged record from the recycle bin undoes its part of the merge."""

from __future__ import annotations

from tests.dedupe.conftest import create

ACCOUNTS = "/api/v1/records/account"
CONTACTS = "/api/v1/records/contact"


def account(api, name: str, email: str, **more) -> str:
    return create(api, "account", {"name": name, "email": email, **more}).get_json()["id"]


def contact(api, name: str, account_id: str) -> str:
    return create(api, "contact", {"name": name, "account": account_id}).get_json()["id"]


def parent_of(api, contact_id: str) -> str | None:
    return api.get(f"{CONTACTS}/{contact_id}").get_json()["account"]


def history_fields(api, account_id: str) -> list[tuple[str, str | None, str | None]]:
    entries = api.get(f"{ACCOUNTS}/{account_id}/history").get_json()["history"]
    return [(e["field"], e["old_value"], e["new_value"]) for e in entries]


def merge(api, master: str, others: list[str], values=None, status: int = 200):
    body = {"master": master, "others": others}
    if values is not None:
        body["values"] = values
    answer = api.post(f"{ACCOUNTS}/merge", json=body)
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


def test_a_merge_keeps_the_chosen_values_moves_the_children_and_keeps_history(dd):
    api = dd.api
    master = account(api, "Stark Industries", "tony@stark.com")
    other = account(api, "Stark Ind.", "pepper@stark.com", phone="212 555 0199")
    assert api.patch(f"{ACCOUNTS}/{other}", json={"name": "Stark Inds"}).status_code == 200
    kept = contact(api, "Happy", master)
    moved = [contact(api, "Rhodey", other), contact(api, "Vision", other)]

    done = merge(api, master, [other], {"email": other, "phone": other})
    assert done["merged"] == [other] and done["moved_children"] == 2
    assert done["master"]["email"] == "pepper@stark.com"
    assert done["master"]["phone"] == "212 555 0199"
    assert done["master"]["name"] == "Stark Industries"  # not chosen: the master's own
    assert [parent_of(api, c) for c in moved] == [master, master]
    assert parent_of(api, kept) == master
    assert api.get(f"{ACCOUNTS}/{other}").status_code == 404  # in the recycle bin
    assert api.get(f"{ACCOUNTS}/{other}?deleted=true").get_json()["name"] == "Stark Inds"
    assert ("email", "tony@stark.com", "pepper@stark.com") in history_fields(api, master)
    related = api.get(f"{ACCOUNTS}/{master}/related/contact.account").get_json()["records"]
    assert {r["id"] for r in related} == {kept, *moved}

    restored = api.post(f"{ACCOUNTS}/{other}/restore")
    assert restored.status_code == 200, restored.get_json()
    assert [parent_of(api, c) for c in moved] == [other, other]  # the children go back
    assert parent_of(api, kept) == master
    back = api.get(f"{ACCOUNTS}/{master}").get_json()
    assert (back["email"], back["phone"]) == ("tony@stark.com", None)  # the old values
    assert ("name", "Stark Ind.", "Stark Inds") in history_fields(api, other)  # kept


def test_undo_is_per_merged_record_and_leaves_what_moved_since(dd):
    api = dd.api
    master = account(api, "Wayne Enterprises", "bruce@wayne.com")
    first = account(api, "Wayne Ent", "alfred@wayne.com")
    second = account(api, "Wayne Corp", "lucius@wayne.com")
    of_first, of_second = contact(api, "Dick", first), contact(api, "Tim", second)
    elsewhere = account(api, "Elsewhere", "x@elsewhere.com")
    merge(api, master, [first, second], {"email": second})
    assert api.patch(f"{CONTACTS}/{of_first}", json={"account": elsewhere}).status_code == 200

    assert api.post(f"{ACCOUNTS}/{first}/restore").status_code == 200
    assert parent_of(api, of_first) == elsewhere  # moved by someone since: stays
    assert parent_of(api, of_second) == master
    assert api.get(f"{ACCOUNTS}/{master}").get_json()["email"] == "lucius@wayne.com"
    assert api.post(f"{ACCOUNTS}/{second}/restore").status_code == 200
    assert parent_of(api, of_second) == second
    assert api.get(f"{ACCOUNTS}/{master}").get_json()["email"] == "bruce@wayne.com"


def test_a_merge_is_refused_whole_when_it_cannot_be_done(dd):
    api = dd.api
    master = account(api, "Tyrell", "eldon@tyrell.com")
    other = account(api, "Tyrell Corp", "rachael@tyrell.com")
    child = contact(api, "Roy", other)
    bad = [
        ({"master": master, "others": [master]}, "others"),
        ({"master": master, "others": []}, "others"),
        ({"master": master, "others": [other], "values": {"nope": other}}, "values.nope"),
        ({"master": master, "others": [other], "values": {"email": "someone"}}, "values.email"),
        ({"master": master, "others": [other], "extra": 1}, "extra"),
    ]
    for body, field in bad:
        answer = api.post(f"{ACCOUNTS}/merge", json=body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert field in answer.get_json()["errors"], answer.get_json()
    # the rep cannot see the admin's accounts: a 404, as for any record they cannot see
    mine = account(dd.rep, "Tyrell Rep", "rep@tyrell.com")
    answer = dd.rep.post(f"{ACCOUNTS}/merge", json={"master": mine, "others": [other]})
    assert answer.status_code == 404
    assert "Tyrell Corp" not in answer.get_data(as_text=True)
    assert parent_of(api, child) == other and api.get(f"{ACCOUNTS}/{other}").status_code == 200


def test_the_cli_merges_and_a_restore_undoes_it(dd):
    from click.testing import CliRunner

    from crm_platform.cli import main

    api = dd.api
    master = account(api, "Cyberdyne", "miles@cyberdyne.com")
    other = account(api, "Cyberdyne Systems", "sarah@cyberdyne.com")
    child = contact(api, "John", other)
    settings = dd.org.settings
    env = {
        "CRM_DATABASE_URL": settings.database_url,
        "CRM_INSTANCE_PATH": str(settings.instance_path),
    }
    result = CliRunner().invoke(
        main, ["merge", "account", master, other, "--keep", f"email={other}"], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"merged 1 into {master}: 1 children moved" in result.output
    assert parent_of(api, child) == master
    assert api.get(f"{ACCOUNTS}/{master}").get_json()["email"] == "sarah@cyberdyne.com"
