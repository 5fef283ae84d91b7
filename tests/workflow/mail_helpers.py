"""What the mail tests share: an org with the automation and mail fixtures, a rep who
may not read amounts or accounts, and a 'won' handler that runs send_email actions."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import find_user
from crm_platform.runtime.directory import create_user_record
from crm_platform.runtime.records.events import RecordEvent
from crm_platform.workflow.mail import list_messages
from crm_platform.workflow.running import run_actions
from crm_platform.yamlio import read_definitions

from ..conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    FIXTURES,
    ApiClient,
    fresh_database_url,
    make_token,
)

REP_EMAIL = "rep@example.com"
WON_NOTICE = {"type": "send_email", "template": "won_notice", "to": "owner.email"}


def prepare(org, load_fixture) -> None:
    load_fixture("automation")
    prepare_mail(org)


def prepare_mail(org) -> None:
    """The mail fixture (templates, the rep's permission set) and the rep."""
    definitions = [(kind, d) for kind, d, _ in read_definitions(FIXTURES / "mail")]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        model = org.models.model_for(conn)
        create_user_record(
            conn,
            model,
            {
                "email": REP_EMAIL,
                "name": "Rita Rep",
                "profile": "mail_rep",
                "password": "S3cure-pass!",
            },
        )


def user(org, email: str = ADMIN_EMAIL):
    with org.db.read() as conn:
        return find_user(conn, email)


def on_won(org, actions) -> None:
    """Run ``actions`` when an opportunity moves to Closed Won (as a trigger would)."""

    def handler(ctx):
        for change in ctx.changes:
            if "stage" in change.changed and (change.after or {}).get("stage") == "Closed Won":
                run_actions(
                    org,
                    ctx.services,
                    "opportunity",
                    change.record_id,
                    actions,
                    source="trigger:opportunity.won",
                )

    org.records.events.on(RecordEvent.AFTER_UPDATE, handler, objects=["opportunity"])


def win_deal(org, *, owner_email: str = REP_EMAIL, amount: str = "125000.50", **extra) -> str:
    """An account and a deal owned by ``owner_email``, then won by the admin: the deal's id."""
    owner = user(org, owner_email)
    with org.records.session(user(org)) as session:
        account = session.create("account", {"name": "Acme"})
        deal = session.create(
            "opportunity",
            {
                "name": "Big deal",
                "account": account["id"],
                "amount": amount,
                "discount": "12.5",
                "owner_id": owner.id,
                **extra,
            },
        )
        session.update("opportunity", deal["id"], {"stage": "Closed Won"})
    return deal["id"]


def messages(org, **options):
    with org.db.read() as conn:
        return list_messages(conn, **options)


def shared_org(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """One mail org for a module whose tests only read or are refused (the body of a
    module-scoped fixture): the org, and the admin and the rep as API clients."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("mail")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        org.metadata.apply_objects(
            [d for _, d, _ in read_definitions(FIXTURES / "automation")],
            author_id=SYSTEM_USER_ID,
        )
        prepare_mail(org)
        app = create_app(settings, org=org)
        yield SimpleNamespace(
            org=org,
            app=app,
            admin=ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL)),
            rep=ApiClient(app.test_client(), make_token(org, REP_EMAIL)),
        )
        org.dispose()
