"""Every route, in one table: method, path, handler, name."""

from __future__ import annotations

from aiohttp import web

from app.handlers import auth, customers, health

UUID_ID = "{id:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}}"
API = "/api/sales"


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/healthz", health.healthz, name="healthz", allow_head=False)
    r.add_get("/readyz", health.readyz, name="readyz", allow_head=False)

    r.add_post(f"{API}/auth/login", auth.login, name="auth.login")
    r.add_post(f"{API}/auth/logout", auth.logout, name="auth.logout")
    r.add_get(f"{API}/auth/me", auth.me, name="auth.me", allow_head=False)

    r.add_get(f"{API}/customers", customers.list_customers, name="customers.list", allow_head=False)
    r.add_post(f"{API}/customers", customers.create_customer, name="customers.create")
    r.add_get(
        f"{API}/customers/{UUID_ID}", customers.get_customer, name="customers.get", allow_head=False
    )
    r.add_patch(f"{API}/customers/{UUID_ID}", customers.patch_customer, name="customers.patch")
    r.add_delete(f"{API}/customers/{UUID_ID}", customers.delete_customer, name="customers.delete")
