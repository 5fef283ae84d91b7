"""The email template and dashboard builders' forms through the test client: an admin
builds one in the form, a refused save shows each error beside its input (a dashboard's
beside the row it names) and keeps what was typed, an edit shows the stored definition
in the form again, and a definition the form cannot show opens as YAML."""

from __future__ import annotations

import html
import re

from crm_platform.core.tables import SYSTEM_USER_ID
from tests.admin_ui.conftest import form_values, post, text


def error_beside(page: str, input_id: str) -> str:
    """The error shown under an input (empty when there is none): the field-error
    messages between the input and the next input or select."""
    start = page.index(f'id="{input_id}"')
    tag_end = page.index(">", start)
    rest = page[tag_end:]
    following = re.search(r"<(input|select|textarea)\b", rest[1:])
    chunk = rest[: following.start() + 1] if following else rest
    if "</select>" in chunk or "</textarea>" in chunk:  # the input's own end first
        chunk = rest
        following = re.search(r"</(select|textarea)>.*?<(input|select|textarea)\b", chunk, re.S)
        chunk = chunk[: following.end()] if following else chunk
    messages = re.findall(r'class="field-error small" role="alert">([^<]*)<', chunk)
    return html.unescape(" ".join(messages))


def is_invalid(page: str, input_id: str) -> bool:
    tag = re.search(rf'<[^>]*id="{re.escape(input_id)}"[^>]*>', page).group(0)
    return "is-invalid" in tag


# --- email templates ------------------------------------------------------------------


def test_an_email_template_is_written_in_its_form(sales, admin):
    page = text(admin.get("/setup/builders/email_template/new"))
    assert 'id="f-source"' not in page and 'id="f-subject"' in page
    # the merge-field hint names each object's fields (the chosen one's shown) and the owner's
    assert 'data-fields-of="opportunity" hidden' in page and "<code>amount</code>" in page
    assert "<code>owner.email</code>" in page
    form = form_values(page, "builder-form")
    form.update(
        api_name="won_notice",
        object="opportunity",
        label="Deal won",
        label_zh="赢单通知",
        subject="Won: {{ name }} ({{ account.name }})",
        body="Hello {{ owner.nme }},\r\n{{ name }} is won: {{ amont }}.\r\n",
        html_body="<p>{{ name }} is won.</p>",
    )
    before = sales.org.metadata.version()
    refused = post(admin, "/setup/builders/email_template/new", form)
    assert refused.status_code == 400
    shown = text(refused)
    assert "owner.nme" in error_beside(shown, "f-body") and is_invalid(shown, "f-body")
    assert error_beside(shown, "f-subject") == ""
    assert "{{ amont }}" in shown and 'value="赢单通知"' in shown  # what was typed stays
    assert sales.org.metadata.version() == before
    again = form_values(shown, "builder-form")
    assert again["object"] == "opportunity"
    again["body"] = "Hello {{ owner.name }},\r\n{{ name }} is won: {{ amount }}.\r\n"
    assert post(admin, "/setup/builders/email_template/new", again).status_code == 302
    saved = sales.org.metadata.get_component("email_template", "won_notice")
    assert saved == {
        "api_name": "won_notice",
        "object": "opportunity",
        "label": {"en": "Deal won", "zh": "赢单通知"},
        "subject": "Won: {{ name }} ({{ account.name }})",
        "body": "Hello {{ owner.name }},\n{{ name }} is won: {{ amount }}.\n",
        "html_body": "<p>{{ name }} is won.</p>",
    }
    # the edit page shows it in the form again, with the object's fields as the hint
    edit = text(admin.get("/setup/builders/email_template/won_notice"))
    values = form_values(edit, "builder-form")
    assert values["body"] == saved["body"] and values["label_zh"] == "赢单通知"
    assert 'data-fields-of="opportunity">' in edit and 'data-fields-of="account" hidden' in edit
    # emptying the HTML body removes it
    values["html_body"] = ""
    assert post(admin, "/setup/builders/email_template/won_notice", values).status_code == 302
    assert "html_body" not in sales.org.metadata.get_component("email_template", "won_notice")


def test_an_email_template_labelled_in_other_languages_opens_as_yaml(sales, admin):
    template = {
        "api_name": "welcome",
        "object": "account",
        "label": {"en": "Welcome", "ja": "ようこそ"},
        "subject": "Welcome, {{ name }}",
        "body": "Hello {{ name }}",
    }
    sales.org.metadata.put_component("email_template", template, author_id=SYSTEM_USER_ID)
    page = text(admin.get("/setup/builders/email_template/welcome"))
    assert 'id="f-source"' in page and "ようこそ" in page and 'id="f-subject"' not in page


# --- dashboards -----------------------------------------------------------------------


def test_a_dashboard_is_built_in_its_form_with_an_empty_row_to_add_one(sales, admin):
    page = text(admin.get("/setup/builders/dashboard/new"))
    assert 'id="f-source"' not in page
    form = form_values(page, "builder-form")
    # one empty row to fill in, its report a select of the reports
    assert form["c0_report"] == "" and "c1_report" not in form
    assert '<option value="accounts_by_industry">' in page
    form.update(
        api_name="team_board",
        label="Team board",
        label_zh="团队看板",
        columns="12",
        c0_report="accounts_by_industry",
        c0_type="chart",
        c0_width="6",
        c0_title="Accounts",
    )
    refused = post(admin, "/setup/builders/dashboard/new", form)
    assert refused.status_code == 400
    shown = text(refused)
    # the report has no chart of its own: said beside the row's type
    assert "has no chart" in error_beside(shown, "c0-type") and is_invalid(shown, "c0-type")
    kept = form_values(shown, "builder-form")
    assert kept["c0_report"] == "accounts_by_industry" and kept["c0_width"] == "6"
    assert kept["c1_report"] == ""  # a spare row again after the filled one
    kept.update(c0_type="table", c0_limit="5")
    assert post(admin, "/setup/builders/dashboard/new", kept).status_code == 302
    assert sales.org.metadata.get_component("dashboard", "team_board") == {
        "api_name": "team_board",
        "label": {"en": "Team board", "zh": "团队看板"},
        "columns": 12,
        "components": [
            {
                "report": "accounts_by_industry",
                "type": "table",
                "width": 6,
                "title": "Accounts",
                "limit": 5,
            }
        ],
    }


def test_a_dashboards_rows_are_added_removed_and_reordered(sales, admin):
    page = text(admin.get("/setup/builders/dashboard/sales_home"))
    form = form_values(page, "builder-form")
    # the stored components, the metric's target and bands as simple inputs, a spare row
    assert [form[f"c{i}_report"] for i in range(4)] == [
        "pipeline_by_stage",
        "pipeline_by_stage",
        "accounts_by_industry",
        "",
    ]
    assert form["c1_bands"] == "20000 red, 60000 yellow, green"
    assert form["c1_target"] == "100000" and form["c1_title_zh"] == "金额"
    # remove the chart, move the table first, add a metric below it
    form.update(c0_report="", c2_position="0")
    form.update(
        c3_report="accounts_by_industry",
        c3_type="metric",
        c3_aggregate="sum(amount)",
        c3_target="50",
        c3_bands="10 red, 5 green",
        c3_width="3",
        c3_position="1",
    )
    before = sales.org.metadata.version()
    refused = post(admin, "/setup/builders/dashboard/sales_home", form)
    assert refused.status_code == 400
    shown = text(refused)
    # the new row is components[1]: its errors are beside its own inputs
    assert "not an aggregate of accounts_by_industry" in error_beside(shown, "c3-aggregate")
    assert "bands climb" in error_beside(shown, "c3-bands") and is_invalid(shown, "c3-bands")
    assert error_beside(shown, "c1-aggregate") == "" and not is_invalid(shown, "c2-report")
    assert sales.org.metadata.version() == before
    kept = form_values(shown, "builder-form")
    assert kept["c3_bands"] == "10 red, 5 green" and kept["c0_report"] == ""
    # the rows are shown in their saved order (table, new metric, old metric, the emptied one)
    order = re.findall(r'data-row="(\d+)"', shown)
    assert order[:3] == ["2", "3", "1"]
    kept.update(c3_aggregate="count", c3_bands="10 red, green")
    assert post(admin, "/setup/builders/dashboard/sales_home", kept).status_code == 302
    saved = sales.org.metadata.get_component("dashboard", "sales_home")
    assert saved["components"] == [
        {"report": "accounts_by_industry", "type": "table", "width": 12,
         "title": {"en": "Accounts", "zh": "客户"}},
        {"report": "accounts_by_industry", "type": "metric", "width": 3, "aggregate": "count",
         "target": 50, "bands": [{"upto": 10, "color": "red"}, {"color": "green"}]},
        {"report": "pipeline_by_stage", "type": "metric", "width": 4,
         "title": {"en": "Open amount", "zh": "金额"}, "aggregate": "sum(amount)",
         "target": 100000, "bands": [{"upto": 20000, "color": "red"},
                                     {"upto": 60000, "color": "yellow"}, {"color": "green"}]},
    ]  # fmt: skip
    assert saved["label"] == {"en": "My pipeline", "zh": "我的销售管道"}


def test_a_missing_report_is_refused_beside_its_row(sales, admin):
    form = form_values(text(admin.get("/setup/builders/dashboard/sales_home")), "builder-form")
    form["c2_report"] = "gone_report"  # a report deleted meanwhile, say
    refused = post(admin, "/setup/builders/dashboard/sales_home", form)
    shown = text(refused)
    assert refused.status_code == 400
    assert error_beside(shown, "c2-report") == "no report 'gone_report'"
    assert '<option value="gone_report" selected>' in shown  # kept, not silently changed
    # a dashboard needs a component: emptying every row is refused above the rows
    emptied = {**form, "c0_report": "", "c1_report": "", "c2_report": ""}
    refused = post(admin, "/setup/builders/dashboard/sales_home", emptied)
    shown = text(refused)
    assert refused.status_code == 400 and 'class="alert alert-danger"' not in shown
    table = shown.index('id="dashboard-components"')
    assert 'class="field-error small"' in shown[shown.index("<h2") : table]
    assert len(sales.org.metadata.get_component("dashboard", "sales_home")["components"]) == 3


def test_a_dashboard_with_its_own_chart_axes_opens_as_yaml(sales, admin):
    board = sales.org.metadata.get_component("dashboard", "sales_home")
    board["components"][0]["chart"] = {"type": "bar", "x": "stage", "y": "count"}
    sales.org.metadata.put_component("dashboard", board, author_id=SYSTEM_USER_ID)
    page = text(admin.get("/setup/builders/dashboard/sales_home"))
    assert 'id="f-source"' in page and "c0_report" not in page
    assert "x: stage" in page
