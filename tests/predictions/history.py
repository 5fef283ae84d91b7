"""Generated deal history with a known signal: small deals, referrals and Energy accounts
are won; big deals and Retail accounts are lost (through a logistic law, with noise)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from crm_platform.runtime import find_user
from tests.conftest import ADMIN_EMAIL

INDUSTRY_EFFECT = {"Retail": -1.5, "Energy": 1.5, "Finance": 0.0}


def true_logit(amount: float, referral: bool, industry: str) -> float:
    """The law the history was drawn from (discount and opening date are noise)."""
    return -3.0 * (amount - 50_000) / 30_000 + 2.0 * referral + INDUSTRY_EFFECT[industry]


def build_history(org, *, closed: int = 300, open_: int = 30, seed: int = 7) -> dict:
    """Accounts, ``closed`` won or lost deals and ``open_`` open deals; the open deals'
    true probabilities by id."""
    rnd = random.Random(seed)
    with org.db.read() as conn:
        user = find_user(conn, ADMIN_EMAIL)  # the system user owns no data
    truth: dict[str, float] = {}
    with org.records.session(user) as session:
        accounts = session.create_many(
            "account", [{"name": name, "industry": name} for name in INDUSTRY_EFFECT]
        )
        deals, laws = [], []
        for index in range(closed + open_):
            account = rnd.choice(accounts)
            amount = rnd.uniform(5_000, 100_000)
            referral = rnd.random() < 0.3
            logit = true_logit(amount, referral, account["industry"])
            p = 1 / (1 + math.exp(-logit))
            is_open = index >= closed
            stage = "Open" if is_open else ("Won" if rnd.random() < p else "Lost")
            deals.append(
                {
                    "name": f"Deal {index}",
                    "account": account["id"],
                    "amount": Decimal(f"{amount:.2f}"),
                    "discount": Decimal(f"{rnd.uniform(0, 30):.2f}"),
                    "referral": referral,
                    "opened_on": (
                        date(2026, 1, 1) + timedelta(days=rnd.randint(0, 300))
                    ).isoformat(),
                    "stage": stage,
                }
            )
            laws.append(p if is_open else None)
        created = session.create_many("deal", deals)
    for record, p in zip(created, laws, strict=True):
        if p is not None:
            truth[record["id"]] = p
    return truth
