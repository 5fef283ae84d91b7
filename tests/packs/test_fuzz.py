"""Random and invalid requests to /api/v1/packs never get a server error (schemathesis,
stateful, from the app's own OpenAPI document)."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.fuzz
schemathesis = pytest.importorskip("schemathesis")

SCENARIOS = int(os.environ.get("CRM_FUZZ_EXAMPLES", "0"))


def test_pack_endpoints_find_no_server_error(app, admin_token):
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import not_a_server_error

    auth = {"Authorization": f"Bearer {admin_token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=auth)
    base = schema.include(path_regex=r"^/packs").as_state_machine()
    seen: set[int] = set()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            seen.add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS or 15,
            stateful_step_count=4,
            derandomize=not SCENARIOS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert seen & {200, 201}, seen
