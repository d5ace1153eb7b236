"""Demo data, written idempotently as the owner role: running it twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infrastructure.db.owner import act_as_tenant, owner_transaction

DEMO_PASSWORD = "demo-password"

TENANTS: dict[str, dict[str, Any]] = {
    "acme": {
        "name": "Acme Corporation",
        "users": [
            ("alice@acme.test", "Alice Admin", "admin"),
            ("carol@acme.test", "Carol Sales", "sales"),
        ],
        "customers": [
            ("Wile E. Coyote", "wile@desert.test", "+1 555 0101"),
            ("Road Runner", "beep@desert.test", None),
            ("Marvin Martian", "marvin@mars.test", "+1 555 0103"),
            ("Elmer Fudd", "elmer@hunt.test", None),
        ],
        "products": [
            ("ACME-ANVIL", "Anvil, 100 lb", "49.99", 40),
            ("ACME-ROCKET", "Rocket skates", "129.00", 12),
            ("ACME-MAGNET", "Giant magnet", "19.99", 3),
            ("ACME-SEED", "Bird seed, 5 kg", "0.10", 500),
        ],
    },
    "globex": {
        "name": "Globex Corporation",
        "users": [("bob@globex.test", "Bob Admin", "admin")],
        "customers": [
            ("Hank Scorpio", "hank@globex.test", "+1 555 0201"),
            ("Homer Simpson", "homer@springfield.test", None),
            ("Frank Grimes", "frank@springfield.test", "+1 555 0203"),
        ],
        "products": [
            ("GX-DOOMSDAY", "Doomsday device", "999999.00", 1),
            ("GX-HAMMOCK", "Hammock district hammock", "89.50", 25),
        ],
    },
}


def seed_demo(owner_url: str, hash_password: Callable[[str], str]) -> dict[str, str]:
    """Returns slug -> tenant id."""
    ids: dict[str, str] = {}
    with owner_transaction(owner_url) as cur:
        for slug, spec in TENANTS.items():
            cur.execute(
                "insert into tenants (slug, name) values (%s, %s) on conflict (slug) do update"
                " set name = excluded.name returning id",
                (slug, spec["name"]),
            )
            tenant_id = str(cur.fetchone()[0])
            ids[slug] = tenant_id
            # Row-level security is forced on the owner too: act as the tenant.
            act_as_tenant(cur, tenant_id)
            for email, name, role in spec["users"]:
                cur.execute(
                    "select 1 from users where tenant_id = %s and email = %s", (tenant_id, email)
                )
                if cur.fetchone() is None:
                    cur.execute(
                        "insert into users (tenant_id, email, name, role, password_hash)"
                        " values (%s, %s, %s, %s, %s)",
                        (tenant_id, email, name, role, hash_password(DEMO_PASSWORD)),
                    )
            for name, email, phone in spec["customers"]:
                cur.execute(
                    "insert into customers (tenant_id, name, email, phone) values (%s, %s, %s, %s)"
                    " on conflict (tenant_id, email) do nothing",
                    (tenant_id, name, email, phone),
                )
            for sku, name, price, stock in spec["products"]:
                _seed_product(cur, tenant_id, sku, name, price, stock)
    return ids


def _seed_product(cur: Any, tenant_id: str, sku: str, name: str, price: str, stock: int) -> None:
    """A product with its opening stock as a movement, so stock == sum of movements holds."""
    cur.execute(
        "insert into products (tenant_id, sku, name, unit_price, stock) values (%s, %s, %s, %s, %s)"
        " on conflict (tenant_id, sku) do nothing returning id",
        (tenant_id, sku, name, price, stock),
    )
    row = cur.fetchone()
    if row is not None and stock:
        cur.execute(
            "insert into inventory_movements (tenant_id, product_id, delta, reason, note)"
            " values (%s, %s, %s, 'adjustment', 'opening stock')",
            (tenant_id, row[0], stock),
        )
