"""Scenario 6: search finds records across searchable objects, kept current on every write."""

from __future__ import annotations

REC = "/api/v1/records"


def _search(api, q, **params):
    query = "&".join([f"q={q}"] + [f"{k}={v}" for k, v in params.items()])
    response = api.get(f"/api/v1/search?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def test_search_finds_names_and_other_text_across_objects(projects):
    acme = projects.post(f"{REC}/account", json={"name": "Acme Rockets"}).get_json()
    apollo = projects.post(f"{REC}/project", json={"name": "Apollo", "code": "ACME-77"}).get_json()
    projects.post(f"{REC}/project", json={"name": "Gemini"})

    hits = _search(projects, "acme")

    assert {(h["object"], h["id"]) for h in hits} == {
        ("account", acme["id"]),
        ("project", apollo["id"]),
    }
    assert next(h for h in hits if h["object"] == "account")["name"] == "Acme Rockets"


def test_partial_names_and_other_scripts(projects):
    projects.post(f"{REC}/account", json={"name": "北京商机科技"})
    projects.post(f"{REC}/account", json={"name": "Straßenbau GmbH"})
    assert [h["name"] for h in _search(projects, "商机")] == ["北京商机科技"]
    assert [h["name"] for h in _search(projects, "Straßen")] == ["Straßenbau GmbH"]
    assert [h["name"] for h in _search(projects, "St")] == ["Straßenbau GmbH"]


def test_search_follows_updates_and_deletes(projects):
    record = projects.post(f"{REC}/project", json={"name": "Apollo"}).get_json()
    projects.patch(f"{REC}/project/{record['id']}", json={"name": "Artemis"})
    assert _search(projects, "Apollo") == []
    assert [h["id"] for h in _search(projects, "Artemis")] == [record["id"]]

    projects.delete(f"{REC}/project/{record['id']}")
    assert _search(projects, "Artemis") == []
    projects.post(f"{REC}/project/{record['id']}/restore")
    assert [h["id"] for h in _search(projects, "Artemis")] == [record["id"]]


def test_search_can_be_limited_to_some_objects(projects):
    projects.post(f"{REC}/account", json={"name": "Orbit Labs"})
    projects.post(f"{REC}/project", json={"name": "Orbit"})
    assert {h["object"] for h in _search(projects, "Orbit", objects="project")} == {"project"}


def test_bad_search_requests(projects):
    assert projects.get("/api/v1/search?q=").status_code == 400
    assert projects.get("/api/v1/search?q=x&objects=nothing").status_code == 400
    assert projects.get("/api/v1/search?q=x&limit=1000").status_code == 400
    assert projects.get("/api/v1/search?q=" + "x" * 300).status_code == 400


def test_search_text_is_not_sql(projects):
    projects.post(f"{REC}/account", json={"name": "100% Pure"})
    assert [h["name"] for h in _search(projects, "100%25 P")] == ["100% Pure"]
    assert _search(projects, "'; DROP TABLE o_account; --") == []
    assert _search(projects, '"quoted"') == []


def test_the_words_of_a_query_are_found_in_any_order_a_short_one_only_in_its_phrase(projects):
    renewal = projects.post(f"{REC}/project", json={"name": "Acme renewal"}).get_json()
    projects.post(f"{REC}/project", json={"name": "Globex expansion", "code": "ACME-1"})
    five = projects.post(f"{REC}/project", json={"name": "Deal 05"}).get_json()
    projects.post(f"{REC}/project", json={"name": "Deal 10", "code": "OPP-00010"})

    assert [h["id"] for h in _search(projects, "renewal acme")] == [renewal["id"]]
    assert [h["id"] for h in _search(projects, "Acme renewal")] == [renewal["id"]]
    # "0" is too short to be matched on its own: the phrase "Deal 0" it is
    assert [h["id"] for h in _search(projects, "Deal 0")] == [five["id"]]
    # the closest match first
    hits = _search(projects, "acme")
    assert [h["name"] for h in hits] == ["Acme renewal", "Globex expansion"]
