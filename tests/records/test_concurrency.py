"""Scenario 5 and gap-free auto-numbers under concurrent writers, on both databases."""

from __future__ import annotations

import threading

REC = "/api/v1/records"
THREADS = 6
INCREMENTS = 5


def _counter_object(api):
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "tally",
            "fields": [
                {"api_name": "counter", "type": "integer", "default": 0},
                {"api_name": "number", "type": "auto_number", "pattern": "T-{0000}"},
            ],
        },
    )


def test_if_match_answers_412_for_a_stale_version(api):
    _counter_object(api)
    record = api.post(f"{REC}/tally", json={"name": "t"}).get_json()
    api.patch(f"{REC}/tally/{record['id']}", json={"counter": 1}, headers={"If-Match": '"1"'})

    stale = api.patch(
        f"{REC}/tally/{record['id']}", json={"counter": 99}, headers={"If-Match": '"1"'}
    )

    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    assert stale.get_json()["current_version"] == 2
    assert api.get(f"{REC}/tally/{record['id']}").get_json()["counter"] == 1


def test_etag_from_get_is_accepted_as_if_match(api):
    _counter_object(api)
    record = api.post(f"{REC}/tally", json={"name": "t"}).get_json()
    etag = api.get(f"{REC}/tally/{record['id']}").headers["ETag"]
    assert (
        api.patch(
            f"{REC}/tally/{record['id']}", json={"counter": 3}, headers={"If-Match": etag}
        ).status_code
        == 200
    )
    assert (
        api.patch(
            f"{REC}/tally/{record['id']}", json={"counter": 3}, headers={"If-Match": "x"}
        ).status_code
        == 400
    )


def test_no_update_is_lost_under_concurrent_writers(app, api):
    _counter_object(api)
    record = api.post(f"{REC}/tally", json={"name": "t"}).get_json()
    url = f"{REC}/tally/{record['id']}"
    successes = []
    errors = []

    def worker():
        client = app.test_client()
        headers = {"Authorization": f"Bearer {api.token}"}
        done = 0
        while done < INCREMENTS:
            current = client.get(url, headers=headers)
            if current.status_code != 200:
                errors.append(current.status_code)
                return
            body = current.get_json()
            response = client.patch(
                url,
                json={"counter": body["counter"] + 1},
                headers={**headers, "If-Match": current.headers["ETag"]},
            )
            if response.status_code == 200:
                done += 1
                successes.append(1)
            elif response.status_code != 412:
                errors.append(response.status_code)
                return

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = api.get(url).get_json()
    assert errors == []
    assert final["counter"] == len(successes) == THREADS * INCREMENTS
    assert final["version"] == 1 + THREADS * INCREMENTS


def test_auto_numbers_have_no_duplicates_or_gaps_under_concurrent_creates(app, api):
    _counter_object(api)
    numbers, errors = [], []
    lock = threading.Lock()

    def worker():
        client = app.test_client()
        for _ in range(INCREMENTS):
            response = client.post(
                f"{REC}/tally", json={"name": "t"}, headers={"Authorization": f"Bearer {api.token}"}
            )
            if response.status_code != 201:
                errors.append(response.status_code)
                continue
            with lock:
                numbers.append(response.get_json()["number"])

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(numbers) == [f"T-{i:04d}" for i in range(1, THREADS * INCREMENTS + 1)]
