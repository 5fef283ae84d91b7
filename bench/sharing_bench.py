"""Record visibility at scale: a filtered list as a rep deep in a role hierarchy vs an admin.

Prints, per database (a temporary SQLite file; a fresh PostgreSQL schema that is
dropped at the end), the time of one filtered, sorted page of 50 records,

    session.list("opportunity", ListRequest(where="stage == 'Open' and amount > 1000",
                                            order_by=("-amount", "name"), limit=50))

inside ``org.records.session(user, write=False)``, with and without ``count=True``,
for a rep at the deepest level of the role tree, a director (level 3), a VP
(level 2) and the admin (who sees all: no visibility clause), and the ratios
against the admin. Then the query plans of the rep's page (PostgreSQL: EXPLAIN
ANALYZE; SQLite: EXPLAIN QUERY PLAN) and the admin's, for contrast.

The org (setup, not measured, except where said): a private ``opportunity`` object
(name, amount currency, stage picklist, region picklist, close_date); a 5-level
role tree, each role with ``--branching`` children (4: 1 CEO, 4 VPs, 16 directors,
64 managers, 256 teams = 341 roles); ``--users`` users inserted with SQLAlchemy
Core (no passwords), one per non-leaf role and the rest spread over the teams,
all with a ``bench_rep`` profile (read/create/edit on opportunity, api_enabled);
6 groups of about 4 % of the users each; ``--records`` records bulk-inserted with
owners spread uniformly over the users; then 20 sharing rules in one change set
(12 criteria rules ``amount > N and region == 'X'`` shared with groups, roles and
roles and subordinates, 8 owner-based rules between sibling subtrees, roles and
groups) whose apply hook materialises the criteria rules' share rows (timed and
printed); and ``--manual-shares`` manual share rows to users, groups and roles.
Each criteria rule matches 1-5 % of the records (``--broad-rules``: 2-15 %).

Nothing is asserted (DESIGN §11).

    python bench/sharing_bench.py                       # full run, both databases
    python bench/sharing_bench.py --quick               # a small smoke run
    python bench/sharing_bench.py --databases sqlite --records 20000 --users 300
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from support import scratch_database, server_version

from crm_platform.core import load_settings, new_id, utc_now
from crm_platform.core.tables import SYSTEM_USER_ID, group_members, shares, users
from crm_platform.runtime import Org, find_user, initialise_org
from crm_platform.runtime.records.query import ListRequest
from crm_platform.runtime.users import User

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "Bench-pass-1!"
OBJECT = "opportunity"
PROFILE = "bench_rep"
LEVELS = 5
LEVEL_NAMES = ("CEO", "VP", "Director", "Manager", "Team")
REGIONS = ("AMER", "EMEA", "APAC", "LATAM", "ANZ")
STAGES = (("Open", 40), ("Negotiation", 15), ("Won", 25), ("Lost", 20))
GROUPS = 6
MAX_AMOUNT = 200_000
WHERE = "stage == 'Open' and amount > 1000"
ORDER_BY = ("-amount", "name")
LOAD_CHUNK = 5_000

OPPORTUNITY: dict[str, Any] = {
    "api_name": OBJECT,
    "label": "Opportunity",
    "name_field": "name",
    "sharing": "private",
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "amount", "type": "currency"},
        {"api_name": "stage", "type": "picklist", "values": [s for s, _ in STAGES]},
        {"api_name": "region", "type": "picklist", "values": list(REGIONS)},
        {"api_name": "close_date", "type": "date"},
    ],
}
PERMISSION_SET = {
    "api_name": PROFILE,
    "label": "Bench rep",
    "objects": {OBJECT: {"read": True, "create": True, "edit": True}},
    "system": ["api_enabled"],
}


# --- options -----------------------------------------------------------------------------


@dataclass
class Options:
    databases: list[str]
    records: int
    users: int
    branching: int
    manual_shares: int
    runs: int
    warmup: int
    broad_rules: bool
    postgres_url: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--records", type=int, default=100_000, help="opportunity records")
    parser.add_argument("--users", type=int, default=1_000, help="users owning them")
    parser.add_argument(
        "--branching", type=int, default=4, help="children per role (5 levels: 1+b+b²+b³+b⁴)"
    )
    parser.add_argument("--manual-shares", type=int, default=3_000, help="manual share rows")
    parser.add_argument("--runs", type=int, default=30, help="measured runs per case")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured runs per case first")
    parser.add_argument(
        "--broad-rules",
        action="store_true",
        help="criteria rules with lower amount thresholds (about 8 %% of the records each)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="PostgreSQL server to create the scratch schema in",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args(argv)
    options = Options(
        databases=[d.strip() for d in args.databases.split(",") if d.strip()],
        records=args.records,
        users=args.users,
        branching=args.branching,
        manual_shares=args.manual_shares,
        runs=args.runs,
        warmup=args.warmup,
        broad_rules=args.broad_rules,
        postgres_url=args.postgres_url,
    )
    if args.quick:
        options.records = 5_000
        options.users = 100
        options.branching = 2
        options.manual_shares = 200
        options.runs = 5
        options.warmup = 2
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    if options.branching < 2:
        parser.error("--branching must be at least 2 (sibling subtrees share with each other)")
    if options.users < 4 * GROUPS or options.records < 100:
        parser.error("too few users or records for the scenario")
    return options


# --- scratch databases -------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# --- the role tree, users and groups ------------------------------------------------------


@dataclass(frozen=True)
class RoleNode:
    name: str
    level: int  # 1 (CEO) .. LEVELS (teams)
    parent: str | None
    path: tuple[int, ...]


def role_tree(branching: int) -> list[RoleNode]:
    """Every role, parents before children: ``l1``, ``l2_1``, ``l3_1_2``, ... ``l5_1_2_3_4``."""
    out = [RoleNode("l1", 1, None, ())]
    frontier = [out[0]]
    for level in range(2, LEVELS + 1):
        nxt = []
        for parent in frontier:
            for i in range(1, branching + 1):
                path = (*parent.path, i)
                node = RoleNode(f"l{level}_" + "_".join(map(str, path)), level, parent.name, path)
                out.append(node)
                nxt.append(node)
        frontier = nxt
    return out


def role_definitions(tree: list[RoleNode]) -> list[tuple[str, dict[str, Any]]]:
    defs = []
    for node in tree:
        label = f"{LEVEL_NAMES[node.level - 1]} {'.'.join(map(str, node.path))}".strip()
        definition: dict[str, Any] = {"api_name": node.name, "label": label}
        if node.parent:
            definition["parent"] = node.parent
        defs.append(("role", definition))
    return defs


def user_roles(tree: list[RoleNode], count: int) -> list[str]:
    """The role of each user: one per non-leaf role, the rest round-robin over the teams."""
    upper = [n.name for n in tree if n.level < LEVELS]
    leaves = [n.name for n in tree if n.level == LEVELS]
    if count < len(upper) + len(leaves):
        every = [n.name for n in tree]
        return [every[i % len(every)] for i in range(count)]
    return upper + [leaves[i % len(leaves)] for i in range(count - len(upper))]


def insert_users(org: Org, roles: list[str]) -> list[str]:
    """Users straight into sys_user (no password: no hashing); their ids, in order."""
    now = utc_now()
    rows = [
        {
            "id": new_id(),
            "email": f"user{i:05d}@bench.invalid",
            "name": f"User {i:05d}",
            "password_hash": None,
            "is_system": False,
            "active": True,
            "created_at": now,
            "updated_at": now,
            "role": role,
            "profile": PROFILE,
        }
        for i, role in enumerate(roles)
    ]
    with org.db.write() as conn:
        conn.execute(users.insert(), rows)
    return [r["id"] for r in rows]


# --- sharing rules -----------------------------------------------------------------------


def sharing_rules(branching: int, broad: bool = False) -> list[dict[str, Any]]:
    """12 criteria rules and 8 owner-based rules; several reach the rep in team l5_1_1_1_1."""
    b = branching
    # criteria: (threshold, region, share_with, access); amounts are uniform in
    # [0, MAX_AMOUNT) and regions uniform over 5, so a rule matches 0.2 * (1 - N / MAX_AMOUNT)
    criteria = [
        (190_000, "AMER", {"group": "grp_1"}, "read"),  # rep is in grp_1
        (180_000, "EMEA", {"group": "grp_2"}, "edit"),  # rep is in grp_2
        (175_000, "APAC", {"group": "grp_3"}, "read"),
        (185_000, "LATAM", {"group": "grp_4"}, "read"),
        (170_000, "ANZ", {"group": "grp_5"}, "edit"),
        (190_000, "AMER", {"group": "grp_6"}, "read"),
        (185_000, "EMEA", {"role_and_subordinates": "l2_1"}, "read"),  # rep's VP subtree
        (180_000, "APAC", {"role_and_subordinates": f"l2_{b}"}, "read"),
        (190_000, "LATAM", {"role_and_subordinates": "l3_1_1"}, "edit"),  # rep's director
        (175_000, "ANZ", {"role_and_subordinates": f"l3_{b}_{b}"}, "read"),
        (150_000, "AMER", {"role": "l4_1_1_1"}, "read"),  # rep's manager only
        (180_000, "EMEA", {"role": "l5_1_1_1_1"}, "read"),  # the rep's own team
    ]
    if broad:  # lower thresholds: each rule matches 2-15 % of the records (8 % on average)
        lower = (150, 120, 100, 160, 90, 180, 140, 130, 170, 110, 50, 60)
        criteria = [(t * 1_000, *rest) for t, (_, *rest) in zip(lower, criteria, strict=True)]
    rules: list[dict[str, Any]] = []
    for i, (threshold, region, share_with, access) in enumerate(criteria, start=1):
        rules.append(
            {
                "api_name": f"criteria_{i:02d}",
                "object": OBJECT,
                "criteria": f"amount > {threshold} and region == '{region}'",
                "share_with": share_with,
                "access": access,
            }
        )
    # owner-based: (owned_by, share_with, access)
    owner_based = [
        ({"role_and_subordinates": "l3_1_2"}, {"role_and_subordinates": "l3_1_1"}, "read"),
        ({"role_and_subordinates": "l3_1_1"}, {"role_and_subordinates": "l3_1_2"}, "read"),
        ({"role_and_subordinates": f"l3_{b}_1"}, {"role_and_subordinates": f"l3_{b}_2"}, "read"),
        ({"role": "l4_1_1_2"}, {"role_and_subordinates": "l4_1_1_1"}, "edit"),  # rep's manager
        ({"role": f"l4_2_1_{b}"}, {"role_and_subordinates": "l4_2_1_1"}, "read"),
        ({"role_and_subordinates": "l4_2_2_1"}, {"role": "l3_2_2"}, "read"),
        ({"group": "grp_3"}, {"group": "grp_1"}, "read"),  # rep is in grp_1
        ({"group": "grp_5"}, {"role_and_subordinates": f"l2_{b}"}, "read"),
    ]
    for i, (owned_by, share_with, access) in enumerate(owner_based, start=1):
        rules.append(
            {
                "api_name": f"owners_{i:02d}",
                "object": OBJECT,
                "owned_by": owned_by,
                "share_with": share_with,
                "access": access,
            }
        )
    return rules


# --- records and manual shares ------------------------------------------------------------


def record_values(rng: random.Random, i: int) -> dict[str, Any]:
    stage = rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES])[0]
    amount = None if rng.random() < 0.03 else Decimal(rng.randrange(0, MAX_AMOUNT * 100)) / 100
    return {
        "name": f"Deal {i:07d}",
        "amount": amount,
        "stage": stage,
        "region": rng.choice(REGIONS),
        "close_date": date(2024, 1, 1) + timedelta(days=rng.randrange(730)),
    }


def insert_records(org: Org, owners: list[str], count: int, rng: random.Random) -> list[str]:
    with org.db.read() as conn:
        obj = org.models.model_for(conn).objects[OBJECT]
    physical = {name: f.columns[""].name for name, f in obj.fields.items()}
    now = utc_now()
    ids: list[str] = []
    for first in range(0, count, LOAD_CHUNK):
        rows = []
        for i in range(first, min(first + LOAD_CHUNK, count)):
            owner = owners[rng.randrange(len(owners))]
            row = {
                "id": new_id(),
                "owner_id": owner,
                "created_by": owner,
                "updated_by": owner,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for name, value in record_values(rng, i).items():
                row[physical[name]] = value
            rows.append(row)
        with org.db.write() as conn:
            conn.execute(obj.table.insert(), rows)
        ids.extend(r["id"] for r in rows)
        if (first // LOAD_CHUNK) % 5 == 4 or first + LOAD_CHUNK >= count:
            progress(f"{len(ids):,} records loaded")
    return ids


def insert_manual_shares(
    org: Org, record_ids: list[str], user_ids: list[str], count: int, rng: random.Random
) -> int:
    """Manual share rows: 80 % to users, 10 % to groups, 10 % to roles and subordinates."""
    with org.db.read() as conn:
        security = org.models.model_for(conn).security
    group_keys = [f"group:{gid}" for gid in security.groups.values()]
    role_keys = [f"sub:{r.id}" for r in security.roles.values()]
    seen: set[tuple[str, str]] = set()
    rows = []
    while len(rows) < count:
        pick = rng.random()
        if pick < 0.8:
            principal = user_ids[rng.randrange(len(user_ids))]
        elif pick < 0.9:
            principal = rng.choice(group_keys)
        else:
            principal = rng.choice(role_keys)
        record_id = record_ids[rng.randrange(len(record_ids))]
        if (record_id, principal) in seen:
            continue
        seen.add((record_id, principal))
        rows.append(
            {
                "object": OBJECT,
                "record_id": record_id,
                "principal": principal,
                "access": "edit" if rng.random() < 0.3 else "read",
                "reason": "manual",
            }
        )
    with org.db.write() as conn:
        conn.execute(shares.insert(), rows)
    return len(rows)


# --- setup -------------------------------------------------------------------------------


@dataclass
class Setup:
    org: Org
    people: dict[str, User]  # label -> user
    roles: int
    users: int
    records: int
    rule_apply_s: float
    rule_rows: int
    manual_rows: int
    load_s: float
    notes: list[str] = field(default_factory=list)


def arrange(org: Org, options: Options) -> Setup:
    rng = random.Random(20_240_601)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    tree = role_tree(options.branching)
    progress(f"object, {len(tree)} roles, {GROUPS} groups and the {PROFILE} profile")
    org.metadata.apply_definitions(
        [
            ("object", OPPORTUNITY),
            ("permission_set", PERMISSION_SET),
            *role_definitions(tree),
            *[("group", {"api_name": f"grp_{g}"}) for g in range(1, GROUPS + 1)],
        ],
        author_id=SYSTEM_USER_ID,
    )
    roles = user_roles(tree, options.users)
    user_ids = insert_users(org, roles)
    by_role: dict[str, list[str]] = {}
    for uid, role in zip(user_ids, roles, strict=True):
        by_role.setdefault(role, []).append(uid)
    rep_id = by_role["l5_1_1_1_1"][0]
    director_id = by_role["l3_1_1"][0]
    vp_id = by_role["l2_1"][0]
    # groups: about 4 % of the users each; the rep is in grp_1 and grp_2, the director in grp_1
    members: set[tuple[str, str]] = {("grp_1", rep_id), ("grp_2", rep_id), ("grp_1", director_id)}
    size = max(2, options.users // 25)
    for g in range(1, GROUPS + 1):
        for uid in rng.sample(user_ids, size):
            members.add((f"grp_{g}", uid))
    with org.db.write() as conn:
        conn.execute(
            group_members.insert(), [{"group_name": g, "user_id": u} for g, u in sorted(members)]
        )
    progress(f"{len(user_ids):,} users, {len(members)} group memberships")
    started = time.perf_counter()
    record_ids = insert_records(org, user_ids, options.records, rng)
    load_s = time.perf_counter() - started
    manual_rows = insert_manual_shares(org, record_ids, user_ids, options.manual_shares, rng)
    progress(f"{manual_rows:,} manual share rows; applying 20 sharing rules")
    rules = sharing_rules(options.branching, options.broad_rules)
    definitions = [("sharing_rule", d) for d in rules]
    started = time.perf_counter()
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    rule_apply_s = time.perf_counter() - started
    with org.db.read() as conn:
        rule_rows = conn.execute(
            sa.select(sa.func.count()).select_from(shares).where(shares.c.reason != "manual")
        ).scalar_one()
    progress(f"rules applied in {rule_apply_s:.2f} s: {rule_rows:,} rule share rows")
    notes = []
    if not org.db.is_sqlite:
        # what autovacuum would have done by the time anyone lists: fresh statistics
        with org.db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("ANALYZE")
        notes.append("ANALYZE run after loading (as autovacuum would).")
    else:
        notes.append("no ANALYZE (the platform never runs it on SQLite: no sqlite_stat1).")
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
        people_rows = {
            uid: conn.execute(sa.select(users).where(users.c.id == uid)).mappings().one()
            for uid in (rep_id, director_id, vp_id)
        }
    assert admin is not None

    def as_user(uid: str) -> User:
        row = people_rows[uid]
        return User(row["id"], row["email"], row["name"], row["active"])

    people = {
        "rep (level 5, team l5_1_1_1_1)": as_user(rep_id),
        "director (level 3, l3_1_1)": as_user(director_id),
        "VP (level 2, l2_1)": as_user(vp_id),
        "admin (system_administrator)": admin,
    }
    return Setup(
        org=org,
        people=people,
        roles=len(tree),
        users=len(user_ids),
        records=len(record_ids),
        rule_apply_s=rule_apply_s,
        rule_rows=rule_rows,
        manual_rows=manual_rows,
        load_s=load_s,
        notes=notes,
    )


# --- measuring ---------------------------------------------------------------------------


def page_request(count: bool) -> ListRequest:
    return ListRequest(where=WHERE, order_by=ORDER_BY, limit=50, count=count)


@dataclass
class Case:
    label: str
    user: User
    count: bool
    total: list[float] = field(default_factory=list)  # session open + list
    listed: list[float] = field(default_factory=list)  # the list call alone
    rows: int = 0
    matching: int | None = None


def run_case(org: Org, case: Case) -> tuple[float, float]:
    start = time.perf_counter()
    with org.records.session(case.user, write=False) as session:
        inner = time.perf_counter()
        page = session.list(OBJECT, page_request(case.count))
        listed = time.perf_counter() - inner
    total = time.perf_counter() - start
    case.rows = len(page.records)
    if case.count:
        case.matching = page.total
    return total, listed


def measure(setup: Setup, options: Options) -> list[Case]:
    cases = [
        Case(label, user, count) for count in (False, True) for label, user in setup.people.items()
    ]
    for case in cases:
        for _ in range(options.warmup):
            run_case(setup.org, case)
    for run in range(options.runs):
        # rotate the order, so that no case always follows the same one
        shift = run % len(cases)
        for case in cases[shift:] + cases[:shift]:
            total, listed = run_case(setup.org, case)
            case.total.append(total)
            case.listed.append(listed)
        if run % 10 == 9:
            progress(f"{run + 1}/{options.runs} rounds")
    return cases


def visible_counts(setup: Setup) -> dict[str, int]:
    """How many records each person sees at all (count of an unfiltered list)."""
    out = {}
    for label, user in setup.people.items():
        with setup.org.records.session(user, write=False) as session:
            page = session.list(OBJECT, ListRequest(limit=1, count=True))
        out[label] = page.total or 0
    return out


# --- plans -------------------------------------------------------------------------------


def capture_sql(org: Org, user: User, request: ListRequest) -> list[tuple[str, Any]]:
    """The statements (and parameters) one list sends, as the driver receives them."""
    captured: list[tuple[str, Any]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(org.db.engine, "before_cursor_execute", listener)
    try:
        with org.records.session(user, write=False) as session:
            session.list(OBJECT, request)
    finally:
        sa.event.remove(org.db.engine, "before_cursor_execute", listener)
    return captured


def explain(org: Org, statement: str, parameters: Any) -> list[str]:
    with org.db.read() as conn:
        if org.db.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            return lines
        rows = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
        ).all()
        return [r[0] for r in rows]


def plans(setup: Setup) -> list[tuple[str, str, list[str]]]:
    """(who, which query, plan lines) for the rep's page and count, and the admin's page."""
    out = []
    rep = next(u for label, u in setup.people.items() if label.startswith("rep"))
    admin = next(u for label, u in setup.people.items() if label.startswith("admin"))
    for who, user in (("rep", rep), ("admin", admin)):
        statements = capture_sql(setup.org, user, page_request(count=who == "rep"))
        for statement, parameters in statements:
            if "opportunity" not in statement.lower() and "sys_share" not in statement:
                continue
            upper = statement.upper()
            if "ORDER BY" in upper:
                which = "page"
            elif "COUNT(" in upper:
                which = "count"
            else:
                continue
            out.append((who, which, explain(setup.org, statement, parameters)))
            if who == "rep" and which == "page":
                out.append((who, "page SQL", statement.splitlines()))
    return out


# --- report ------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:,.2f}×" if baseline > 0 else "n/a"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A Markdown pipe table (first column left, figures right), readable in a terminal too."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join([first, *rest]) + " |"

    print(line(headers))
    rule = ["-" * (widths[0] + 1), *("-" * (w + 1) + ":" for w in widths[1:])]
    print("|:" + "|".join(rule) + "|")
    for row in rows:
        print(line(row))
    print(flush=True)


def report(
    title: str,
    setup: Setup,
    options: Options,
    cases: list[Case],
    visible: dict[str, int],
    plan_lines: list[tuple[str, str, list[str]]],
) -> None:
    print(f"\n### {title}\n")
    print(
        f"{setup.records:,} `{OBJECT}` records (private) owned uniformly by {setup.users:,} "
        f"users; {setup.roles} roles in {LEVELS} levels (branching {options.branching}); "
        f"{GROUPS} groups; 20 sharing rules (12 criteria, "
        f"{'broad' if options.broad_rules else 'narrow'} thresholds; 8 owner-based) → "
        f"{setup.rule_rows:,} rule share rows, plus {setup.manual_rows:,} manual share rows. "
        f"Records bulk-loaded in {setup.load_s:.1f} s. {' '.join(setup.notes)}\n"
    )
    print(
        f"**Applying the 20 sharing rules** (one change set; the apply hook rebuilds each "
        f"criteria rule's rows with one INSERT ... SELECT over {setup.records:,} records): "
        f"{setup.rule_apply_s * 1e3:,.0f} ms for {setup.rule_rows:,} rows.\n"
    )
    print(
        f'**A page of 50**: `where="{WHERE}"`, `order_by={ORDER_BY}`, inside '
        f"`org.records.session(user, write=False)`; median of {options.runs} runs after "
        f"{options.warmup} warm-up, cases interleaved. *total* = open the session (load the "
        f"user's access, model lookup) + list; *list* = the `session.list` call alone.\n"
    )
    admin = {c.count: c for c in cases if c.label.startswith("admin")}
    rows = []
    for case in cases:
        base = admin[case.count]
        rows.append(
            [
                case.label,
                "yes" if case.count else "no",
                f"{visible[case.label]:,}",
                f"{case.matching:,}" if case.matching is not None else "",
                ms(statistics.median(case.total)),
                ms(statistics.median(case.listed)),
                ms(statistics.quantiles(case.total, n=10)[-1]) if len(case.total) > 1 else "",
                ratio(statistics.median(case.total), statistics.median(base.total)),
            ]
        )
    print_table(
        [
            "user",
            "count",
            "visible records",
            "matching (count)",
            "total ms",
            "list ms",
            "p90 total ms",
            "vs admin",
        ],
        rows,
    )
    for who, which, lines in plan_lines:
        kind = "EXPLAIN QUERY PLAN" if setup.org.db.is_sqlite else "EXPLAIN ANALYZE"
        if which == "page SQL":
            kind = "compiled SQL"
        print(f"**{who} — {which} ({kind})**\n")
        print("```")
        print("\n".join(lines))
        print("```\n", flush=True)


def run_database(kind: str, options: Options) -> None:
    with scratch_database(kind, options.postgres_url) as (url, folder):
        org = Org.open(load_settings(url, instance_path=folder / "instance"))
        try:
            started = time.perf_counter()
            load_before = os.getloadavg()
            setup = arrange(org, options)
            title = server_version(org) + (" (temporary file)" if kind == "sqlite" else "")
            progress("counting what each user sees")
            visible = visible_counts(setup)
            progress(f"measuring: 8 cases × ({options.warmup} + {options.runs}) runs")
            cases = measure(setup, options)
            progress("plans")
            plan_lines = plans(setup)
            report(title, setup, options, cases, visible, plan_lines)
            load = " ".join(f"{v:.2f}" for v in load_before)
            after = " ".join(f"{v:.2f}" for v in os.getloadavg())
            print(
                f"({kind}: {time.perf_counter() - started:.0f} s in all; load average "
                f"(1, 5, 15 min) {load} before, {after} after)\n",
                flush=True,
            )
        finally:
            org.dispose()


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    print(
        f"# sharing_bench — Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}, {os.cpu_count()} CPUs"
    )
    for kind in options.databases:
        print(f"\n== {kind} ==", file=sys.stderr, flush=True)
        run_database(kind, options)


if __name__ == "__main__":
    main()
