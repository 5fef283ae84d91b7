"""Issue 9, item 4: labels in several languages for objects, fields and picklist values.

The metadata API answers in the reader's language (``Accept-Language``), falling back
to the org's default language and then to any language the label has; the OpenAPI
document's titles follow; YAML apply and dump keep both forms as written.
"""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from crm_platform.cli import main
from tests.conftest import FIXTURES, ApiClient

DEAL = "/api/v1/metadata/objects/deal"


@pytest.fixture
def pipeline(api, load_metadata):
    """Deals with labels in English and Chinese (tests/fixtures/pipeline)."""
    load_metadata("pipeline")
    return api


@pytest.fixture
def crm(database_url, tmp_path):
    """The `crm` command on the database under test; ``crm.app()`` serves that org."""
    runner = CliRunner()
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def app():
        from crm_platform.app import create_app
        from crm_platform.core import load_settings

        return create_app(load_settings(database_url, tmp_path / "instance"))

    run.app = app
    return run


def _read(api, path: str, language: str | None):
    headers = {"Accept-Language": language} if language else {}
    response = api.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _stage_labels(deal) -> list[str]:
    stage = next(f for f in deal["fields"] if f["api_name"] == "stage")
    return [v["label"] for v in stage["values"]]


def test_a_chinese_reader_gets_chinese_labels(pipeline):
    deal = _read(pipeline, DEAL, "zh-CN,zh;q=0.9,en;q=0.5")

    assert deal["label"] == "商机"
    assert deal["labels"] == {"en": "Deal", "zh": "商机"}
    assert deal["plural_label"] == "商机"
    amount = next(f for f in deal["fields"] if f["api_name"] == "amount")
    assert (amount["label"], amount["labels"]) == ("金额", {"en": "Amount", "zh": "金额"})
    assert _stage_labels(deal) == ["初步接洽", "谈判", "赢单", "输单"]


def test_an_english_reader_gets_english_labels(pipeline):
    deal = _read(pipeline, DEAL, "en-US,en;q=0.9")

    assert (deal["label"], deal["plural_label"]) == ("Deal", "Deals")
    assert _stage_labels(deal) == ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
    field = _read(pipeline, f"{DEAL}/fields/stage", "en")
    assert field["label"] == "Stage"
    assert field["values"][2]["labels"] == {"en": "Closed Won", "zh": "赢单"}


def test_a_language_no_label_has_falls_back_to_the_org_default(pipeline):
    french = _read(pipeline, DEAL, "fr-FR,fr;q=0.9")
    unspecified = _read(pipeline, DEAL, None)

    assert french["label"] == unspecified["label"] == "Deal"
    assert _stage_labels(french) == ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]
    listed = _read(pipeline, "/api/v1/metadata/objects", "fr")["objects"]
    assert [o["label"] for o in listed] == ["Deal"]


def test_the_org_default_language_decides_the_fallback(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!", "--language", "zh")
    crm("metadata", "apply", str(FIXTURES / "pipeline"))
    token = crm("token", "create", "--user", "admin@example.com").output.strip()
    api = ApiClient(crm.app().test_client(), token)

    assert _read(api, DEAL, "fr")["label"] == "商机"
    assert _read(api, DEAL, None)["label"] == "商机"
    assert _read(api, DEAL, "en")["label"] == "Deal"


def test_a_bad_default_language_is_refused(crm):
    result = crm("init", "--language", "Chinese", ok=False)
    assert result.exit_code == 2
    assert "--language" in result.output


def test_a_label_in_one_other_language_is_shown_as_it_is(api):
    api.post(
        "/api/v1/metadata/objects",
        json={"api_name": "kunde", "label": {"de": "Kunde"}, "fields": []},
    )

    shown = _read(api, "/api/v1/metadata/objects/kunde", "fr")

    assert shown["label"] == "Kunde"
    assert shown["labels"] == {"de": "Kunde"}


def test_labels_may_be_added_in_a_new_language(pipeline):
    response = pipeline.patch(
        f"{DEAL}/fields/amount", json={"label": {"en": "Amount", "zh": "金额", "fr": "Montant"}}
    )
    assert response.status_code == 200, response.get_json()

    assert _read(pipeline, f"{DEAL}/fields/amount", "fr")["label"] == "Montant"


def test_the_openapi_document_uses_the_readers_language(pipeline):
    etags = {}

    def document(language):
        response = pipeline.get("/api/v1/openapi.json", headers={"Accept-Language": language})
        assert response.status_code == 200
        assert "Accept-Language" in response.headers["Vary"]
        etags[response.headers["Content-Language"]] = response.headers["ETag"]
        return response.get_json()

    chinese, english, french = document("zh"), document("en"), document("fr")

    deal_zh = chinese["components"]["schemas"]["deal"]
    assert deal_zh["title"] == "商机"
    assert deal_zh["properties"]["amount"]["title"] == "金额"
    assert english["components"]["schemas"]["deal"]["title"] == "Deal"
    assert french["components"]["schemas"]["deal"]["properties"]["amount"]["title"] == "Amount"
    summaries = [op["summary"] for op in chinese["paths"]["/records/deal"].values()]
    assert any("商机" in s for s in summaries)
    assert set(etags) == {"zh", "en"}  # French falls back to the org's English
    assert etags["zh"] != etags["en"]


def test_bad_labels_are_refused(api):
    response = api.post(
        "/api/v1/metadata/objects",
        json={"api_name": "deal", "label": {"english": "Deal"}},
    )
    assert response.status_code == 400
    assert "label" in response.get_json()["errors"]


def test_yaml_apply_and_dump_keep_both_forms(crm, tmp_path):
    crm("init", "--admin-password", "S3cure-pass!")
    folder = tmp_path / "definitions" / "objects"
    folder.mkdir(parents=True)
    stage_values = [
        {
            "value": "Closed Won",
            "label": {"en": "Closed Won", "zh": "赢单"},
            "attributes": {"probability": 100, "is_won": True},
        },
        {"value": "Open", "label": "Still open"},
        "Lost",
    ]
    written = {
        "api_name": "deal",
        "label": {"en": "Deal", "zh": "商机"},
        "plural_label": "Deals",
        "fields": [
            {"api_name": "name", "type": "text", "label": "Name", "required": True},
            {
                "api_name": "stage",
                "type": "picklist",
                "label": {"en": "Stage", "zh": "阶段"},
                "values": stage_values,
            },
        ],
    }
    (folder / "deal.yaml").write_text(yaml.safe_dump(written, allow_unicode=True), "utf-8")
    crm("metadata", "apply", str(tmp_path / "definitions"))

    crm("metadata", "dump", str(tmp_path / "dumped"))

    back = yaml.safe_load((tmp_path / "dumped" / "objects" / "deal.yaml").read_text("utf-8"))
    assert back["label"] == {"en": "Deal", "zh": "商机"}
    assert back["plural_label"] == "Deals"
    stage = next(f for f in back["fields"] if f["api_name"] == "stage")
    assert stage["label"] == {"en": "Stage", "zh": "阶段"}
    assert stage["values"] == stage_values
    again = crm("metadata", "apply", str(tmp_path / "dumped"))
    assert "Nothing to change" in again.output
