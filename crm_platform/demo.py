"""A demo org in one call: a SQLite org in a folder, the shipped packs with their sample
records, and demo users of each kind (with known passwords) so a newcomer can sign in as
a sales rep, a manager, a marketing user... (``crm demo``).

Users come after the packs' metadata (their profiles and roles are the packs' permission
sets and roles) and before the sample records (which name their owners by email, and
whose leads the round-robin rule gives to the reps in turn).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .assembly import open_org
from .core import load_settings
from .metadata import ACTIVE
from .packs import install, pack_folders, read_installed, shipped_root
from .packs.install import load_sample
from .runtime import Org, find_user, initialise_org
from .runtime.directory import add_member, create_user_record

ADMIN_EMAIL = "admin@example.com"
PASSWORD = "Demo-pass-2026!"
DATABASE = "crm.db"
Report = Callable[[str], None]


@dataclass(frozen=True)
class DemoUser:
    """A demo login: the first of ``profiles`` the installed packs define is its profile
    (so the demo works with whichever packs are shipped), its role when defined, its
    manager by email and the groups it joins."""

    email: str
    name: str
    what: str
    profiles: tuple[str, ...]
    role: str | None = None
    manager: str | None = None
    locale: str = "en"
    groups: tuple[str, ...] = field(default=())
    queues: tuple[str, ...] = field(default=())


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("director@example.com", "Dana Director", "sales director",
             ("sales_director",), "sales_director", groups=("sales_team",)),
    DemoUser("manager@example.com", "Morgan Manager", "sales manager",
             ("sales_manager",), "sales_manager", "director@example.com", groups=("sales_team",),
             queues=("new_leads",)),
    DemoUser("rep@example.com", "Sam Rivera", "sales rep", ("sales_rep",), "sales_rep",
             "manager@example.com", groups=("sales_reps", "sales_team")),
    DemoUser("jordan@example.com", "Jordan Lee", "sales rep", ("sales_rep",), "sales_rep",
             "manager@example.com", groups=("sales_reps", "sales_team")),
    DemoUser("li.wei@example.com", "李伟", "sales rep (中文)", ("sales_rep",), "sales_rep",
             "manager@example.com", "zh", ("sales_reps", "sales_team")),
    DemoUser("marketing@example.com", "Maya Marketing", "marketing user",
             ("marketing_user", "marketing_manager", "sales_rep"), "marketing_user"),
    DemoUser("agent@example.com", "Alex Agent", "service agent",
             ("service_agent", "sales_rep"), "service_agent",
             groups=("support_agents", "skill_billing", "skill_technical", "skill_hardware")),
    DemoUser("channel@example.com", "Chris Channel", "channel manager",
             ("channel_manager", "partner_manager", "sales_manager"), "channel_manager"),
)  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    url: str
    packs: tuple[tuple[str, str], ...]
    records: int
    users: tuple[tuple[str, str, str], ...]  # (email, what, password)


def shipped_pack_names() -> list[str]:
    """Every shipped pack (the installer orders them by their dependencies)."""
    return sorted(pack_folders(shipped_root()))


def open_demo_org(folder: Path) -> Org:
    """The org of a demo folder (its SQLite file and instance folder)."""
    return open_org(load_settings(demo_url(folder), folder / "instance"))


def demo_url(folder: Path) -> str:
    return f"sqlite:///{(folder / DATABASE).resolve()}"


def build_demo(
    org: Org, packs: Sequence[str] | None = None, report: Report | None = None
) -> DemoResult:
    """Install ``packs`` (default: every shipped one) into the initialised ``org``, make
    the demo users, then load the packs' sample records."""
    say = report or (lambda _text: None)
    names = list(packs) if packs is not None else shipped_pack_names()
    for name in names:
        result = install(org, name)
        if not result.already:
            say("installed " + ", ".join(f"{n} {v}" for n, v in result.packs))
    users = make_users(org)
    say(f"made {len(users)} demo users")
    with org.db.read() as conn:
        installed = read_installed(conn)
    order = [n for n in installed if n in _with_dependencies(names, installed)]
    records = load_sample(org, order)
    say(f"loaded {records} sample records")
    train_predictions(org, say)
    return DemoResult(
        "",
        tuple((n, installed[n].version) for n in order),
        records,
        tuple((u.email, u.what, PASSWORD) for u in DEMO_USERS),
    )


def train_predictions(org: Org, say: Report) -> None:
    """Train the installed packs' predictions on the sample history (a prediction the
    sample is too thin for is left untrained, saying why)."""
    from .predictions import TooFewExamples, predictions_of, train_now
    from .runtime.users import system_user

    with org.reading() as (conn, model):
        names = list(predictions_of(model).predictions)
        user = system_user(conn)
    for name in names:
        try:
            run = train_now(org, name, user)
        except TooFewExamples as exc:
            say(f"prediction {name} not trained: {exc.detail}")
            continue
        say(f"trained prediction {name} (AUC {run.quality['auc']:.2f} on held-out records)")


def _with_dependencies(names: Sequence[str], installed) -> set[str]:
    wanted, stack = set(), list(names)
    while stack:
        name = stack.pop()
        if name in wanted or name not in installed:
            continue
        wanted.add(name)
        stack.extend(installed[name].depends)
    return wanted


def make_users(org: Org) -> list[str]:
    """The demo users (those missing), their groups and managers; their emails."""
    snapshot = org.metadata.snapshot()

    def defined(kind: str, name: str | None) -> bool:
        comp = snapshot.get(kind, name) if name else None
        return comp is not None and comp.status == ACTIVE

    made = []
    with org.db.write() as conn:
        model = org.models.model_for(conn)
        for user in DEMO_USERS:
            if find_user(conn, user.email) is not None:
                continue
            data = {"email": user.email, "name": user.name, "password": PASSWORD}
            data["locale"] = user.locale
            profile = next((p for p in user.profiles if defined("permission_set", p)), None)
            if profile:
                data["profile"] = profile
            if defined("role", user.role):
                data["role"] = user.role
            if user.manager and (manager := find_user(conn, user.manager)) is not None:
                data["manager_id"] = manager.id
            created = create_user_record(conn, model, data)
            for group in user.groups:
                if defined("group", group):
                    add_member(conn, model, "groups", group, created["id"])
            for queue in user.queues:
                if defined("queue", queue):
                    add_member(conn, model, "queues", queue, created["id"])
            made.append(user.email)
    return made


def initialise_demo(org: Org) -> bool:
    """Create the demo org with its admin; False when it existed already."""
    admin = initialise_org(
        org,
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        name="Demo Company",
    )
    return admin is not None


__all__ = [
    "ADMIN_EMAIL",
    "DEMO_USERS",
    "PASSWORD",
    "DemoResult",
    "build_demo",
    "initialise_demo",
    "open_demo_org",
]
