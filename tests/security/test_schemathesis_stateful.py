"""A stateful schemathesis run against the app's own OpenAPI document finds no 5xx.

Schemathesis reads ``/api/v1/openapi.json``, infers which operations produce the ids
others take (a create's ``id`` feeds get, update, delete, restore, history, shares,
related lists and upserts) and chains them into random scenarios with random and
invalid inputs. The run in the suite is short and derandomised; the README's testing
section gives the command for the long run against a live ``crm serve``.
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.fuzz

schemathesis = pytest.importorskip("schemathesis")

DOC = "/api/v1/openapi.json"
SCENARIOS = int(os.environ.get("CRM_FUZZ_EXAMPLES", "0"))


def _state_machine(shared, client, path_regex: str):
    from schemathesis.checks import not_a_server_error

    auth = {"Authorization": f"Bearer {client.token}"}
    schema = schemathesis.openapi.from_wsgi(DOC, shared.app, headers=auth)
    base = schema.include(path_regex=path_regex).as_state_machine()
    seen: set[int] = set()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            seen.add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

    return Workflow, seen


def _run(machine) -> None:
    from hypothesis import HealthCheck, settings

    machine.run(
        settings=settings(
            max_examples=SCENARIOS or 15,
            stateful_step_count=6,
            derandomize=not SCENARIOS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.mark.parametrize("who", ["admin", "rep"])
def test_stateful_scenarios_over_records_find_no_server_error(shared, who):
    machine, seen = _state_machine(
        shared,
        getattr(shared, who),
        r"^/(records/(opportunity|line_item|account)|composite|search)",
    )
    _run(machine)
    assert seen & {200, 201}, seen  # requests were served, not only refused
