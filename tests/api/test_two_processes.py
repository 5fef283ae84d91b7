"""Two server processes on one database: a field added through one is live in the other."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import make_token
from tests.servers import free_port, start_server, wait_until_up

pytestmark = pytest.mark.slow


@pytest.fixture
def two_servers(org, database_url, tmp_path):
    ports = [free_port(), free_port()]
    servers = [start_server(database_url, str(tmp_path / "instance"), p, 2) for p in ports]
    try:
        for port in ports:
            wait_until_up(port)
        yield [f"http://127.0.0.1:{p}/api/v1" for p in ports]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=60)


def test_a_field_added_through_one_process_is_visible_through_the_other(org, two_servers):
    first, second = two_servers
    headers = {"Authorization": f"Bearer {make_token(org, 'admin@example.com')}"}
    created = requests.post(
        f"{first}/metadata/objects", json={"api_name": "project"}, headers=headers, timeout=10
    )
    assert created.status_code == 201
    # warm both workers of the second server on the old version first
    for _ in range(4):
        assert requests.get(f"{second}/metadata/objects/project", headers=headers, timeout=10).ok

    added = requests.post(
        f"{first}/metadata/objects/project/fields",
        json={"api_name": "due_date", "type": "date"},
        headers=headers,
        timeout=10,
    )

    assert added.status_code == 201
    for _ in range(4):  # whichever worker answers
        shown = requests.get(f"{second}/metadata/objects/project", headers=headers, timeout=10)
        assert "due_date" in [f["api_name"] for f in shown.json()["fields"]]
        assert int(shown.headers["X-Metadata-Version"]) == int(added.headers["X-Metadata-Version"])
