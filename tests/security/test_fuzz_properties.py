"""Properties over the record API and the expression language, on random inputs.

For random objects, users and inputs — bodies, ids, filters, sorts, field lists,
aggregates, searches, cursors, composite batches — the API

* never answers a 5xx, and every error is problem+json;
* never lets a restricted user see a hidden value: ``account.annual_revenue`` (hidden
  from sales reps) and the plaintext of ``opportunity.bank_code`` (an encrypted field,
  masked without ``view_encrypted``) hold sentinels that must appear in no response
  body a user without the right gets (the admin sees them: they are there to find).

The examples are derandomised (the same on every run) and bounded so the module adds
seconds to the suite; ``CRM_FUZZ_EXAMPLES=2000`` explores further, with random seeds.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_platform.core import ValidationFailed
from crm_platform.expressions.functions import LIBRARY
from tests.conftest import ApiClient, make_token
from tests.expressions.conftest import FIELDS as EXPRESSION_FIELDS
from tests.expressions.conftest import run_python

pytestmark = pytest.mark.fuzz

REC = "/api/v1/records"
REVENUE = Decimal("8675309.13")  # the hidden annual revenue
BANK_CODE = "QZXWV-SENTINEL-31337"  # the encrypted field's plaintext
BANK_SECRETS = ("QZXWV", "SENTINEL", "31337")
# what each user may never see: reps may not read annual_revenue; a service agent may (their
# permission set does not hide it) but, like the reps, lacks view_encrypted
SECRETS = {
    "rep": ("8675309", *BANK_SECRETS),
    "peer": ("8675309", *BANK_SECRETS),
    "agent": BANK_SECRETS,
    "admin": (),
}
EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "0"))
OBJECTS = ("account", "opportunity", "line_item", "ticket", "idea", "announcement")
FIELDS = {
    "account": ("name", "industry", "annual_revenue", "revenue_band"),
    "opportunity": (
        "name",
        "amount",
        "discount",
        "account",
        "stage",
        "bank_code",
        "account.annual_revenue",
        "account.name",
    ),
    "line_item": ("name", "opportunity", "quantity", "opportunity.amount"),
    "ticket": ("name", "account", "account.annual_revenue"),
    "idea": ("name",),
    "announcement": ("name",),
}
SYSTEM_FIELDS = ("id", "owner_id", "created_at", "updated_at", "created_by", "version")


def fuzz_settings(examples: int):
    """Bounded, derandomised settings; CRM_FUZZ_EXAMPLES widens and randomises them."""
    return settings(
        max_examples=EXAMPLES or examples,
        derandomize=not EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def world(shared):
    """The security org with sentinel values and the users who must never see them."""
    from crm_platform.runtime import create_user

    org, admin = shared.org, shared.admin
    with org.db.write() as conn:
        agent = create_user(
            conn, email="agent@example.com", profile="service_agent", role="service_agent"
        )
        peer = create_user(conn, email="peer@example.com", profile="sales_rep", role="sales_rep")
    users = SimpleNamespace(admin=admin, rep=shared.rep)
    users.agent = ApiClient(shared.app.test_client(), make_token(org, agent.email))
    users.peer = ApiClient(shared.app.test_client(), make_token(org, peer.email))
    account = admin.post(
        f"{REC}/account", json={"name": "Sentinel Corp", "annual_revenue": REVENUE}
    ).get_json()
    admin.patch(f"{REC}/account/{account['id']}", json={"owner_id": shared.rep.user_id})
    deal = admin.post(
        f"{REC}/opportunity",
        json={
            "name": "Sentinel deal",
            "amount": 5,
            "account": account["id"],
            "bank_code": BANK_CODE,
        },
    ).get_json()
    admin.patch(f"{REC}/opportunity/{deal['id']}", json={"owner_id": shared.rep.user_id})
    item = users.rep.post(
        f"{REC}/line_item", json={"name": "Item", "opportunity": deal["id"], "quantity": 3}
    ).get_json()
    users.restricted = {"rep": users.rep, "peer": users.peer, "agent": users.agent}
    users.ids = [account["id"], deal["id"], item["id"]]
    # the sentinels are really there: the admin reads them
    assert "8675309.13" in admin.get(f"{REC}/account/{account['id']}").get_data(as_text=True)
    assert BANK_CODE in admin.get(f"{REC}/opportunity/{deal['id']}").get_data(as_text=True)
    return users


def check(response, who: str) -> None:
    """Never a 5xx; errors are problem+json; no sentinel in what a restricted user gets."""
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text[:500]
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", text[:300]
    leaked = [s for s in SECRETS[who] if s in text]
    assert not leaked, f"{who} saw {leaked}: {text[:500]}"


# --- strategies -----------------------------------------------------------------------

users = st.sampled_from(["rep", "peer", "agent", "admin"])
objects = st.sampled_from(OBJECTS)
# text that stays printable in a URL query: any Unicode but surrogates, no NUL
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(1, 99).map(lambda n: f"1E+{n}"),
    st.sampled_from(["0", "-0", "0.0000000001", "9" * 40, "1" + "0" * 30]),
)
field_names = st.one_of(
    st.sampled_from(sorted({f for fs in FIELDS.values() for f in fs} | set(SYSTEM_FIELDS))),
    st.from_regex(r"[a-z_]{1,12}(\.[a-z_]{1,12})?", fullmatch=True),
)
literals = st.one_of(
    numbers,
    texts.map(lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    st.sampled_from(["null", "True", "False", "TODAY()", "NOW()"]),
)
operators = st.sampled_from(
    ["+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or"]
)
functions = st.sampled_from(sorted(LIBRARY))


def _extend(children):
    return st.one_of(
        st.tuples(children, operators, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(functions, st.lists(children, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        children.map(lambda c: f"not {c}"),
        children.map(lambda c: f"-{c}"),
        st.tuples(children, st.lists(literals, max_size=3)).map(
            lambda t: f"{t[0]} in ({', '.join(t[1]) or '1'},)"
        ),
    )


expressions = st.recursive(st.one_of(field_names, literals), _extend, max_leaves=8)
# the expression tests' own fields (tests/expressions/conftest.py), for Python evaluation
language_expressions = st.recursive(
    st.one_of(st.sampled_from([".".join(p) for p in EXPRESSION_FIELDS]), literals),
    _extend,
    max_leaves=10,
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.decimals(allow_nan=False, allow_infinity=False),
        texts,
        st.sampled_from(["2024-02-30", "2024-01-01T00:00:00", "25:00", "Open", "Won"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(texts, children, max_size=3)
    ),
    max_leaves=6,
)


def bodies(obj: str):
    """A record body: some of the object's fields (and system or unknown ones) set at random."""
    keys = st.one_of(st.sampled_from(FIELDS[obj] + SYSTEM_FIELDS + ("deleted_at",)), texts)
    return st.dictionaries(keys, json_values, max_size=5)


# --- properties -----------------------------------------------------------------------


@fuzz_settings(60)
@given(
    who=users,
    obj=objects,
    where=st.none() | expressions,
    order_by=st.none() | st.lists(expressions, max_size=2).map(",".join),
    fields=st.none() | st.lists(field_names, min_size=1, max_size=3).map(",".join),
    limit=st.none() | st.integers(-5, 500),
)
def test_lists_filters_and_sorts_never_fail_or_leak(
    world, who, obj, where, order_by, fields, limit
):
    client = getattr(world, who)
    params = {"where": where, "order_by": order_by, "fields": fields, "limit": limit}
    query = {k: v for k, v in params.items() if v is not None}
    response = client.get(f"{REC}/{obj}", query_string=query)
    check(response, who)
    cursor = response.get_json().get("next_cursor") if response.status_code == 200 else None
    if cursor:
        check(client.get(f"{REC}/{obj}", query_string={**query, "cursor": cursor}), who)


@fuzz_settings(40)
@given(
    who=users,
    obj=objects,
    group_by=st.lists(field_names, max_size=2).map(",".join),
    metrics=st.lists(
        st.one_of(
            st.just("count"),
            st.tuples(st.sampled_from(["sum", "min", "max", "avg", "count"]), field_names).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
        ),
        min_size=1,
        max_size=3,
    ).map(",".join),
    where=st.none() | expressions,
)
def test_aggregates_never_fail_or_leak(world, who, obj, group_by, metrics, where):
    query = {"group_by": group_by, "metrics": metrics}
    if where is not None:
        query["where"] = where
    check(getattr(world, who).get(f"{REC}/{obj}/aggregate", query_string=query), who)


@fuzz_settings(30)
@given(who=users, q=st.one_of(texts, st.sampled_from(["Sentinel", "8675309", "QZXWV"])))
def test_search_never_fails_or_leaks(world, who, q):
    check(getattr(world, who).get("/api/v1/search", query_string={"q": q}), who)


@fuzz_settings(50)
@given(data=st.data(), who=users, obj=objects)
def test_writes_with_random_bodies_never_fail_or_leak(world, data, who, obj):
    client = getattr(world, who)
    body = data.draw(bodies(obj))
    check(client.post(f"{REC}/{obj}", json=body), who)
    target = data.draw(st.sampled_from(world.ids) | texts.filter(lambda t: "/" not in t))
    check(client.patch(f"{REC}/{obj}/{target}", json=body), who)
    field = data.draw(st.sampled_from(FIELDS[obj]) | st.from_regex(r"[a-z_]{1,10}", fullmatch=True))
    value = data.draw(texts.filter(lambda t: "/" not in t and t not in ("", ".", "..")))
    check(client.put(f"{REC}/{obj}/by/{field}/{value}", json=body), who)


@fuzz_settings(40)
@given(
    who=users,
    obj=objects,
    record_id=st.one_of(st.sampled_from(["0", "-1", "9" * 40, "%00"]), texts),
    suffix=st.sampled_from(["", "/history", "/shares", "/restore", "/related/line_items"]),
    fields=st.none() | st.lists(field_names, min_size=1, max_size=3).map(",".join),
)
def test_reads_by_id_never_fail_or_leak(world, who, obj, record_id, suffix, fields):
    client = getattr(world, who)
    safe = record_id.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
    path = f"{REC}/{obj}/{safe}{suffix}"
    query = {"fields": fields} if fields else {}
    response = client.post(path) if suffix == "/restore" else client.get(path, query_string=query)
    check(response, who)
    for record_id in world.ids:
        check(client.get(f"{REC}/{obj}/{record_id}{suffix}", query_string=query), who)


@fuzz_settings(30)
@given(who=users, obj=objects, data=st.data())
def test_manual_shares_with_random_bodies_never_fail_or_leak(world, who, obj, data):
    record_id = data.draw(st.sampled_from(world.ids))
    body = data.draw(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"access": json_values | st.sampled_from(["read", "edit"])},
                optional={
                    kind: json_values | st.sampled_from(["finance", "sales_rep", "", "x"])
                    for kind in ("user", "group", "role", "role_and_subordinates")
                },
            ),
        )
    )
    client = getattr(world, who)
    check(client.post(f"{REC}/{obj}/{record_id}/shares", json=body), who)
    key = data.draw(texts.filter(lambda t: t not in ("", ".", "..")))
    check(client.delete(f"{REC}/{obj}/{record_id}/shares/{key}"), who)


@fuzz_settings(40)
@given(
    who=users,
    raw=st.one_of(
        json_values.map(lambda v: json.dumps(v, default=str)),
        st.text(max_size=60),
        st.lists(
            st.sampled_from(['"\\ud800"', "[", "]", "{", "}", ",", ":", '"a"', "1E+999", "-", "0"]),
            max_size=40,
        ).map("".join),
    ),
    path=st.sampled_from(
        [f"{REC}/account", f"{REC}/opportunity", "/api/v1/composite", "/api/v1/metadata/objects"]
    ),
)
def test_raw_bodies_never_fail(world, who, raw, path):
    client = getattr(world, who)
    response = client.post(path, data=raw.encode("utf-8", "surrogatepass"), headers=JSON_TYPE)
    check(response, who)


JSON_TYPE = {"Content-Type": "application/json"}


@fuzz_settings(30)
@given(
    who=users,
    operations=st.lists(
        st.fixed_dictionaries(
            {
                "method": st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]),
                "url": st.one_of(
                    objects.map(lambda o: f"/records/{o}"),
                    st.tuples(objects, texts).map(lambda t: f"/records/{t[0]}/{t[1]}"),
                    st.just("/records/account/@{a.id}"),
                ),
                "body": json_values,
            },
            optional={"ref": st.sampled_from(["a", "b", "x y"])},
        ),
        min_size=1,
        max_size=4,
    ),
    all_or_none=st.booleans(),
)
def test_composite_batches_never_fail_or_leak(world, who, operations, all_or_none):
    body = {"operations": operations, "all_or_none": all_or_none}
    check(getattr(world, who).post("/api/v1/composite", json=body), who)


record_values = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.decimals(-(10**16), 10**16, places=2),
        "qty": st.integers(-(2**63), 2**63 - 1).map(Decimal),
        "rate": st.decimals(-(10**10), 10**10, places=4),
        "name": texts,
        "flag": st.booleans(),
        "d": st.dates(),
        "ts": st.datetimes(timezones=st.just(UTC)),
        "tags": st.lists(st.sampled_from(["a", "b", "c"]), unique=True),
        "stage": st.sampled_from(["Prospecting", "Closed Won", "Other"]),
    },
)


@fuzz_settings(150)
@given(source=language_expressions, values=record_values)
def test_expressions_evaluate_or_refuse_with_a_400_never_crash(source, values):
    """Parse, check and evaluate in Python: a value or an ExpressionError (a 400), nothing else."""
    with contextlib.suppress(ValidationFailed):
        run_python(source, values)
