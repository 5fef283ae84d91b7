"""What the feed tests read back."""

from __future__ import annotations

from tests.conftest import ApiClient


def messages(client: ApiClient) -> list[str]:
    """The messages of a user's notifications, newest first."""
    response = client.get("/api/v1/notifications?limit=200")
    assert response.status_code == 200, response.json
    return [n["message"] for n in response.json["notifications"]]
