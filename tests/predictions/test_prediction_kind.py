"""A prediction definition is checked when saved: each problem named by its path."""

from __future__ import annotations

import pytest

from crm_platform.core import ValidationFailed

GOOD = {
    "api_name": "win_chance",
    "object": "deal",
    "training": "stage != 'Open'",
    "target": "stage == 'Won'",
    "scoring": "stage == 'Open'",
    "features": ["amount", "account.industry"],
    "score_field": "win_chance",
    "factors_field": "win_reasons",
}


@pytest.fixture
def deals(org, load_metadata):
    load_metadata("predictions")
    return org


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"object": "nothing"}, "object", "no object 'nothing'"),
        ({"target": "amount"}, "target", "must be boolean"),
        ({"scoring": "stage == "}, "scoring", "syntax error"),
        ({"features": ["nope"]}, "features[0]", "unknown field"),
        ({"features": ["amount", "win_chance"]}, "features[1]", "fields the prediction writes"),
        ({"score_field": "name"}, "score_field", "a percent or decimal field of deal"),
        ({"factors_field": "amount"}, "factors_field", "a text or long text field of deal"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_problem(deals, put_metadata, change, path, message):
    with pytest.raises(ValidationFailed) as refused:
        put_metadata("prediction", {**GOOD, **change})
    errors = refused.value.errors
    found = [m for key, ms in errors.items() if key.endswith(path) for m in ms]
    assert any(message in m for m in found), errors


def test_a_good_definition_is_saved_and_read_back(deals, api):
    saved = api.put("/api/v1/metadata/predictions/other", json={**GOOD, "api_name": "other"})
    assert saved.status_code in (200, 201), saved.get_json()
    got = api.get("/api/v1/metadata/predictions/other").get_json()
    assert got["features"] == ["amount", "account.industry"]


def test_a_field_rename_follows_into_the_prediction_and_a_used_field_cannot_go(deals, api):
    fields = "/api/v1/metadata/objects/deal/fields"
    renamed = api.patch(f"{fields}/amount", json={"api_name": "deal_value"})
    assert renamed.status_code == 200, renamed.get_json()
    renamed = api.patch(f"{fields}/win_chance", json={"api_name": "chance"})
    assert renamed.status_code == 200, renamed.get_json()
    stored = api.get("/api/v1/metadata/predictions/win_chance").get_json()
    assert stored["features"][0] == "deal_value" and stored["score_field"] == "chance"
    refused = api.delete(f"{fields}/discount")
    assert refused.status_code in (400, 409), refused.get_json()
    assert "win_chance" in str(refused.get_json())
