"""``/api/docs``: Swagger UI from an installed package, on the caller's own document."""

from __future__ import annotations

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def _sign_in(client) -> None:
    page = client.get("/login").data.decode()
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_api_docs_need_a_signed_in_person(app):
    response = app.test_client().get("/api/docs")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/api/docs")


def test_api_docs_serve_swagger_ui_from_the_installed_package(app, load_metadata):
    load_metadata("projects")
    client = app.test_client()
    _sign_in(client)
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.data.decode()
    assert 'data-document-url="/api/v1/openapi.json"' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.data
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/ui-static/apidocs.js").status_code == 200
    # the document the page fetches answers to the session (no token), with the org's objects
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert "/records/project" in document.get_json()["paths"]
