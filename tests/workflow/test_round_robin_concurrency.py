"""Round-robin stays fair under concurrent creates: clients in parallel threads create
cases at once, and every create takes its own turn (a counter row moved in the insert's
transaction), so the support group's members get exactly as many each."""

from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from crm_platform.core.tables import counters

from ..conftest import ApiClient, make_token
from .assignment_org import build

CLIENTS = 6
EACH = 5


def test_parallel_creates_spread_evenly_over_the_group(org, app):
    env = build(org)
    token = make_token(org, env.requester.email)
    start = threading.Barrier(CLIENTS)
    made: list[str] = []
    failures: list[object] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        api = ApiClient(app.test_client(), token)
        start.wait()
        for i in range(EACH):
            name = f"c{number}-{i}"
            body = {"name": name, "subject": name, "product": "X"}
            response = api.post("/api/v1/records/case", json=body)
            with lock:
                if response.status_code == 201:
                    made.append(response.get_json()["owner_id"])
                else:
                    failures.append(response.get_json())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    per_agent = Counter(made)
    assert set(per_agent) == {a.id for a in env.agents}
    assert sorted(per_agent.values()) == [CLIENTS * EACH // 3] * 3
    with org.db.read() as conn:
        turns = conn.execute(
            sa.select(counters.c.value).where(counters.c.name == "assignment:case.routing#1")
        ).scalar_one()
    assert turns == CLIENTS * EACH  # no two creates took the same turn, none was lost
