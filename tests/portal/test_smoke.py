from tests.portal.conftest import sign_in


def test_smoke(portal):
    client = sign_in(portal.app)
    page = client.get("/portal/")
    print(page.get_data(as_text=True))
    assert page.status_code == 200
