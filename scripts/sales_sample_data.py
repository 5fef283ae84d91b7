"""Write the sales pack's sample records (``packs/shipped/sales/sample/*.csv``).

Deterministic (a fixed seed and a fixed anchor date), so the files are reviewed like code
and tests can compute the reports' figures independently from them. A year of deals
closes around the anchor: those before it closed won or lost, those after are open at
stages that fit how far away they close. Owners are the demo users, by email (an org
without them gives the records to the installing admin).

    python scripts/sales_sample_data.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "crm_platform/packs/shipped/sales/sample"
ANCHOR = date(2026, 12, 1)
REPS = ["rep@example.com", "li.wei@example.com", "manager@example.com", "jordan@example.com"]
WEIGHTS = [4, 3, 1, 3]
INDUSTRIES = [
    "Technology",
    "Manufacturing",
    "Finance",
    "Healthcare",
    "Retail",
    "Education",
    "Energy",
    "Government",
]
CITIES = [
    ("Shanghai", "China"),
    ("Beijing", "China"),
    ("Shenzhen", "China"),
    ("Boston", "USA"),
    ("Austin", "USA"),
    ("Chicago", "USA"),
    ("Berlin", "Germany"),
    ("Lyon", "France"),
    ("Milan", "Italy"),
    ("Madrid", "Spain"),
]
NAMES = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Proseware",
    "Adatum",
    "Wingtip",
    "Coho",
    "Alpine",
    "Blue Yonder",
    "Fourth Coffee",
    "Lucerne",
    "Margie's",
    "Trey Research",
    "Woodgrove",
    "Humongous",
    "Wide World",
    "Graphic Design",
    "Relecloud",
    "Southridge",
    "Consolidated",
    "Lamna",
    "Munson's",
    "Nod",
    "Olympia",
    "Pinnacle",
    "Quantum",
    "Redwood",
    "Silverline",
    "Summit",
    "Tidewater",
    "Unity",
    "Vertex",
    "Westbrook",
    "Yellowstone",
    "Zenith",
    "Harbor",
    "Ironbridge",
    "Jade River",
]
SUFFIX = ["Ltd", "Inc", "Group", "GmbH", "SA", "Co"]
FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Iris",
    "Jack",
    "Kai",
    "Lena",
    "Marco",
    "Nora",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Wei",
    "Xin",
    "Yan",
    "Zhao",
]
LAST = [
    "Smith",
    "Müller",
    "Rossi",
    "García",
    "Martin",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Brown",
    "Dubois",
    "Schmidt",
    "Lopez",
    "Kim",
    "Ivanova",
    "Nakamura",
    "Okafor",
    "Silva",
]
TITLES = [
    "CIO",
    "CFO",
    "Head of Sales",
    "IT Manager",
    "Procurement Lead",
    "COO",
    "Operations Director",
    "CTO",
]
SOURCES = [
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Trade Show",
    "Advertisement",
    "Email Campaign",
    "Other",
]
OPEN_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation"]
DEALS = ["CRM rollout", "Renewal", "Analytics", "Expansion", "Services", "Gateway"]
ROLES = ["Decision Maker", "Economic Buyer", "Technical Buyer", "Champion"]
PRODUCTS = {
    "CRM-STD": 600,
    "CRM-ENT": 1500,
    "ANL-ADD": 240,
    "SRV-IMP": 1200,
    "TRN-WS": 2500,
    "SUP-PRM": 12000,
    "HW-GW": 4800,
}


def plain(text: str) -> str:
    """An address part without accents."""
    return text.replace("é", "e").replace("ü", "u").replace("í", "i")


def slug(name: str) -> str:
    return name.lower().replace(" ", "").replace("'", "")


def write(name: str, header: list[str], rows: list[dict]) -> None:
    with (OUT / f"{name}.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(16)
    OUT.mkdir(parents=True, exist_ok=True)
    accounts = []
    for i, base in enumerate(NAMES):
        city, country = CITIES[i % len(CITIES)]
        accounts.append(
            {
                "_key": f"a{i:02}",
                "name": f"{base} {SUFFIX[i % len(SUFFIX)]}",
                "account_number": f"ACC-{1000 + i}",
                "type": "Customer" if i % 3 != 2 else "Prospect",
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "rating": ["Hot", "Warm", "Cold"][i % 3],
                "annual_revenue": rng.choice([2, 5, 12, 40, 90, 250]) * 1_000_000,
                "employees": rng.choice([40, 120, 450, 1200, 5000]),
                "phone": f"+1 555 01{i:02}",
                "website": f"https://www.{slug(base)}.example",
                "billing_address.city": city,
                "billing_address.country": country,
                "parent._key": "",
                "owner_id.email": rng.choices(REPS, WEIGHTS)[0],
            }
        )
    for child, parent in ((36, 0), (37, 0), (38, 1), (39, 4)):  # subsidiaries
        accounts[child]["parent._key"] = accounts[parent]["_key"]
        city = accounts[child]["billing_address.city"]
        accounts[child]["name"] = accounts[parent]["name"].split()[0] + f" {city}"
        accounts[child]["owner_id.email"] = accounts[parent]["owner_id.email"]
    write("account", list(accounts[0]), accounts)

    contacts = []
    for i, account in enumerate(accounts):
        for j in range(2):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            contacts.append(
                {
                    "_key": f"c{i:02}{j}",
                    "first_name": first,
                    "last_name": last,
                    "account._key": account["_key"],
                    "title": rng.choice(TITLES),
                    "email": plain(
                        f"{first.lower()}.{last.lower()}{i}{j}@{account['website'][12:]}"
                    ),
                    "phone": f"+1 555 2{i:02}{j}",
                    "lead_source": rng.choice(SOURCES),
                    "owner_id.email": account["owner_id.email"],
                }
            )
    write("contact", list(contacts[0]), contacts)

    leads = []
    statuses = ["Open"] * 5 + ["Working"] * 4 + ["Qualified"] * 2 + ["Unqualified"] * 2
    for i in range(60):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = f"{rng.choice(NAMES)} {rng.choice(['Labs', 'Systems', 'Partners', 'Holdings'])}"
        leads.append(
            {
                "first_name": first,
                "last_name": last,
                "company": company,
                "title": rng.choice(TITLES),
                "email": plain(f"{first.lower()}.{last.lower()}.{i}@lead.example"),
                "status": rng.choice(statuses),
                "lead_source": rng.choice(SOURCES),
                "industry": rng.choice(INDUSTRIES),
                "rating": rng.choice(["Hot", "Warm", "Cold"]),
                "estimated_amount": rng.choice([8, 15, 30, 60, 120]) * 1000,
            }
        )
    write("lead", list(leads[0]), leads)

    opportunities, roles = [], []
    for i in range(240):
        account = rng.choice(accounts[:36])
        # a year: closing from 11 months before the anchor to 3 months after it
        close = ANCHOR + timedelta(days=rng.randint(-330, 100))
        if close < ANCHOR:
            stage = "Closed Won" if rng.random() < 0.38 else "Closed Lost"
        else:
            ahead = (close - ANCHOR).days
            stage = OPEN_STAGES[max(0, min(4, 4 - ahead // 22 + rng.randint(-1, 0)))]
        amount = rng.choice([12, 18, 25, 40, 55, 80, 120, 200]) * 1000
        opportunities.append(
            {
                "_key": f"o{i:03}",
                "name": f"{account['name']} - {rng.choice(DEALS)} {i}",
                "account._key": account["_key"],
                "amount": amount,
                "close_date": close.isoformat(),
                "stage": stage,
                "type": rng.choice(["New Business", "Existing Business", "Renewal"]),
                "lead_source": rng.choice(SOURCES),
                "owner_id.email": rng.choices(REPS, WEIGHTS)[0],
            }
        )
        if i % 2 == 0:
            j = rng.randint(0, 1)
            roles.append(
                {
                    "opportunity._key": f"o{i:03}",
                    "contact._key": f"c{account['_key'][1:]}{j}",
                    "role": rng.choice(ROLES),
                    "is_primary": "true",
                }
            )
    write("opportunity", list(opportunities[0]), opportunities)
    write("opportunity_contact_role", list(roles[0]), roles)

    quotes, lines = [], []
    open_deals = [o for o in opportunities if o["stage"] in ("Proposal", "Negotiation")][:24]
    for i, deal in enumerate(open_deals):
        quotes.append(
            {
                "_key": f"q{i:02}",
                "name": f"Quote for {deal['name']}",
                "opportunity._key": deal["_key"],
                "account._key": deal["account._key"],
                "price_book.code": "STD",
                "status": "Draft",
                "expiration_date": (ANCHOR + timedelta(days=30 + i)).isoformat(),
                "owner_id.email": deal["owner_id.email"],
            }
        )
        for code in rng.sample(list(PRODUCTS), rng.randint(2, 3)):
            lines.append(
                {
                    "quote._key": f"q{i:02}",
                    "product.product_code": code,
                    "quantity": rng.choice([1, 2, 5, 10, 25, 50]),
                    "unit_price": PRODUCTS[code],
                    "discount": rng.choice([0, 0, 5, 10, 15, 25]),
                }
            )
    write("quote", list(quotes[0]), quotes)
    write("quote_line", list(lines[0]), lines)

    won = [o for o in opportunities if o["stage"] == "Closed Won"]
    contracts, orders = [], []
    for i, deal in enumerate(won[:30]):
        contracts.append(
            {
                "_key": f"k{i:02}",
                "account._key": deal["account._key"],
                "opportunity._key": deal["_key"],
                "status": "Activated",
                "start_date": deal["close_date"],
                "term_months": rng.choice([12, 24, 36]),
                "value": deal["amount"],
                "owner_id.email": deal["owner_id.email"],
            }
        )
        orders.append(
            {
                "account._key": deal["account._key"],
                "opportunity._key": deal["_key"],
                "contract._key": f"k{i:02}",
                "status": rng.choice(["Activated", "Fulfilled"]),
                "order_date": deal["close_date"],
                "amount": deal["amount"],
                "owner_id.email": deal["owner_id.email"],
            }
        )
    write("contract", list(contracts[0]), contracts)
    write("order", list(orders[0]), orders)

    tasks = []
    for _ in range(180):
        deal = rng.choice(opportunities)
        due = ANCHOR + timedelta(days=rng.randint(-200, 30))
        tasks.append(
            {
                "subject": rng.choice(
                    ["Call", "Send proposal to", "Demo for", "Follow up with", "Prepare QBR for"]
                )
                + " "
                + deal["name"].split(" - ")[0],
                "due_date": due.isoformat(),
                "status": "Completed"
                if due < ANCHOR and rng.random() < 0.8
                else rng.choice(["Not Started", "In Progress"]),
                "priority": rng.choice(["High", "Normal", "Normal", "Low"]),
                "account._key": deal["account._key"],
                "opportunity._key": deal["_key"],
                "owner_id.email": rng.choices(REPS, WEIGHTS)[0],
            }
        )
    write("task", list(tasks[0]), tasks)


if __name__ == "__main__":
    main()
