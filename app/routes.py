"""Every route, in one table: method, path, handler, name."""

from __future__ import annotations

from aiohttp import web

from app.handlers import auth, customers, health, orders, products

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

    r.add_get(f"{API}/products", products.list_products, name="products.list", allow_head=False)
    r.add_post(f"{API}/products", products.create_product, name="products.create")
    r.add_get(
        f"{API}/products/{UUID_ID}", products.get_product, name="products.get", allow_head=False
    )
    r.add_patch(f"{API}/products/{UUID_ID}", products.patch_product, name="products.patch")
    r.add_post(
        f"{API}/products/{UUID_ID}/stock-adjustments",
        products.adjust_stock,
        name="products.adjust_stock",
    )

    r.add_get(f"{API}/orders", orders.list_orders, name="orders.list", allow_head=False)
    r.add_post(f"{API}/orders", orders.place_order, name="orders.create")
    r.add_get(f"{API}/orders/{UUID_ID}", orders.get_order, name="orders.get", allow_head=False)
    r.add_post(f"{API}/orders/{UUID_ID}/cancel", orders.cancel_order, name="orders.cancel")

    r.add_get(f"{API}/invoices", orders.list_invoices, name="invoices.list", allow_head=False)
    r.add_get(
        f"{API}/invoices/{UUID_ID}", orders.get_invoice, name="invoices.get", allow_head=False
    )
    r.add_post(f"{API}/invoices/{UUID_ID}/pay", orders.pay_invoice, name="invoices.pay")

    r.add_get(f"{API}/dashboard", orders.dashboard, name="dashboard", allow_head=False)
