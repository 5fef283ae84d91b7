"""The ``inbound_address`` kind through the metadata API and the setup builders: a good
address is saved; a queue, a field, a template or an address that does not fit is a 400
naming the key, and changes nothing."""

from __future__ import annotations

import pytest

from crm_platform.packs import install

from .conftest import SUPPORT

URL = "/api/v1/metadata/inbound_addresses"
GOOD = {"api_name": "billing", "address": "Billing@Acme.test", "owner": "tier1_support"}


@pytest.fixture
def service(org):
    install(org, "service", with_sample=False)
    return org


def problems(response) -> dict:
    assert response.status_code == 400, response.get_json()
    return response.get_json()["errors"]


def test_an_address_is_saved_and_read_back(service, api):
    created = api.post(URL, json={**GOOD, "values": {"channel": "Email", "priority": "Low"}})
    assert created.status_code == 201, created.get_json()
    found = api.get(f"{URL}/billing").get_json()
    assert found["address"] == "Billing@Acme.test"
    with service.reading() as (_conn, model):
        from crm_platform.mailin import mailin_model

        assert set(mailin_model(model).addresses) == {"billing@acme.test"}


BAD = [
    ({"owner": "nobody"}, "owner", "no queue 'nobody'"),
    ({"values": {"colour": "red"}}, "values.colour", "case has no field 'colour'"),
    ({"values": {"subject": "x"}}, "values.subject", "'subject' is set from the message"),
    ({"auto_reply": "nothing"}, "auto_reply", "no email template 'nothing'"),
    ({"address": "not an address"}, "address", "does not match"),
]


def test_a_bad_address_is_refused_naming_the_key(service, api):
    before = service.metadata.version()
    for change, path, message in BAD:
        errors = problems(api.post(URL, json={**GOOD, **change}))
        named = [ms for p, ms in errors.items() if p.endswith(path)]
        assert any(message in m for ms in named for m in ms), (change, errors)
    assert service.metadata.version() == before


def test_one_address_is_one_inbound_address(service, api):
    assert api.post(URL, json={**GOOD, "address": SUPPORT}).status_code == 201
    errors = problems(api.post(URL, json={**GOOD, "api_name": "other", "address": SUPPORT.upper()}))
    assert any(
        "receives mail for support@acme.test already" in m for ms in errors.values() for m in ms
    )


def test_without_the_service_pack_it_says_what_to_install(org, api):
    errors = problems(api.post(URL, json=GOOD))
    assert any("install the service pack first" in m for ms in errors.values() for m in ms)
