"""Fast whatever the org: a list page and a record page cost a fixed few SQL statements
plus at most two per related list — the same with 3 objects in the org as with 40, and
with a page of 3 rows as with a full one (statements counted on the org's engine)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.web.sales_org import sales_app
from tests.web.test_pages import sign_in

# the transaction, the metadata version, the session's user, their preferences and
# permission sets, then the page's own reads (7 and 8 measured; room for a few more)
FIXED_LIST = 10  # + the page and its count
FIXED_RECORD = 12  # + the record, its edit access, its history


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    with sales_app(tmp_path_factory) as found:
        yield found


def statements(sales, client, url: str) -> list[str]:
    """The SQL statements one page costs (every connection of the org's engine)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(sales.org.db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    finally:
        sa.event.remove(sales.org.db.engine, "before_cursor_execute", count)
    return seen


def add_objects(sales, how_many: int) -> None:
    """Objects the rep may not even see, each with a lookup to notes (so the note's
    derived layout gains a related list per object the rep may read)."""
    from crm_platform.core.tables import SYSTEM_USER_ID

    definitions = [
        (
            "object",
            {
                "api_name": f"extra_{n:02d}",
                "sharing": "public_read_write",
                "fields": [
                    {"api_name": "name", "type": "text"},
                    {"api_name": "note", "type": "lookup", "target": "note"},
                ],
            },
        )
        for n in range(how_many)
    ]
    sales.org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)


def test_pages_cost_the_same_whatever_the_number_of_objects(sales):
    from crm_platform.ui import layout_for
    from crm_platform.web.pages.lists import PAGE_SIZE

    rep = sign_in(sales.app)
    admin = sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)
    note = sales.api.post("/api/v1/records/note", json={"name": "Kick-off"}).get_json()
    pages = {
        "list": "/o/opportunity?view=all",
        "record": f"/r/opportunity/{sales.deals[4]['id']}",
        "account": f"/r/account/{sales.acme['id']}",
        "note": f"/r/note/{note['id']}",
        "home": "/",
        "search": "/search?q=Deal",
    }
    for url in pages.values():
        rep.get(url)  # the model compiled and cached before counting
        admin.get(url)
    before = {name: statements(sales, rep, url) for name, url in pages.items()}
    admin_before = {name: statements(sales, admin, url) for name, url in pages.items()}
    assert len(before["list"]) <= FIXED_LIST, before["list"]
    with sales.org.db.read() as conn:
        model = sales.org.models.model_for(conn)
    assert not layout_for(model, model.objects["opportunity"]).related
    assert len(before["record"]) <= FIXED_RECORD, before["record"]
    related = len(layout_for(model, model.objects["account"]).related)
    assert related == 1
    assert len(before["account"]) <= FIXED_RECORD + 2 * related, before["account"]

    add_objects(sales, 40)
    for url in pages.values():
        rep.get(url)
        admin.get(url)
    after = {name: statements(sales, rep, url) for name, url in pages.items()}
    admin_after = {name: statements(sales, admin, url) for name, url in pages.items()}
    for name in ("list", "record", "account", "home", "search"):
        assert len(after[name]) == len(before[name]), (name, before[name], after[name])
    # the note's derived layout lists nothing new: the rep may not read the new objects
    assert len(after["note"]) == len(before["note"])
    # the admin reads them all: the note's page gains 40 related lists, two reads each
    for name in ("list", "record", "account", "home", "search"):
        assert len(admin_after[name]) == len(admin_before[name]), name
    assert len(admin_after["note"]) <= len(admin_before["note"]) + 2 * 40
    assert PAGE_SIZE >= 25 and len(sales.deals) > PAGE_SIZE
