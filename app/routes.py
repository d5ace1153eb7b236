"""Every route, in one table. The router and the OpenAPI document are both built from it, so
they cannot drift apart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from marshmallow import Schema

from app.handlers import auth, customers, health, orders, products
from app.metrics import metrics_endpoint
from app.openapi_handler import openapi_endpoint
from app.schemas import auth as auth_s
from app.schemas import customers as cust_s
from app.schemas import orders as ord_s
from app.schemas import products as prod_s

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
API = "/api/sales"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # OpenAPI style: {id} (the router adds the UUID pattern)
    handler: Handler
    name: str
    summary: str
    ok: int = 200
    response: type[Schema] | None = None
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    errors: tuple[int, ...] = ()  # beyond the ones every route of its kind can answer
    public: bool = False  # no tenant, no auth (health, metrics, docs)
    login: bool = False  # tenant but no auth

    @property
    def router_path(self) -> str:
        return self.path.replace("{id}", "{id:" + UUID_PATTERN + "}")

    @property
    def tag(self) -> str:
        return self.name.split(".")[0]


def _api(method: str, path: str, handler: Handler, name: str, summary: str, **kw: object) -> Route:
    return Route(method, API + path, handler, name, summary, **kw)  # type: ignore[arg-type]


ROUTES: tuple[Route, ...] = (
    Route("GET", "/healthz", health.healthz, "healthz", "Liveness (no database)", public=True),
    Route(
        "GET",
        "/readyz",
        health.readyz,
        "readyz",
        "Readiness: the pool answers select 1",
        errors=(503,),
        public=True,
    ),
    Route("GET", "/metrics", metrics_endpoint, "metrics", "Prometheus metrics", public=True),
    Route("GET", "/openapi.json", openapi_endpoint, "openapi", "This document", public=True),
    _api(
        "POST",
        "/auth/login",
        auth.login,
        "auth.login",
        "Log in; sets the session cookie",
        response=auth_s.LoginResponse,
        body=auth_s.LoginRequest,
        errors=(401, 429),
        login=True,
    ),
    _api("POST", "/auth/logout", auth.logout, "auth.logout", "Revoke the current session", ok=204),
    _api(
        "GET", "/auth/me", auth.me, "auth.me", "The calling principal", response=auth_s.PrincipalOut
    ),
    _api(
        "GET",
        "/customers",
        customers.list_customers,
        "customers.list",
        "List customers (keyset pages)",
        response=cust_s.CustomerPage,
        query=cust_s.CustomerListQuery,
    ),
    _api(
        "POST",
        "/customers",
        customers.create_customer,
        "customers.create",
        "Create a customer",
        ok=201,
        response=cust_s.CustomerOut,
        body=cust_s.CustomerCreate,
        errors=(409,),
    ),
    _api(
        "GET",
        "/customers/{id}",
        customers.get_customer,
        "customers.get",
        "Get a customer",
        response=cust_s.CustomerOut,
    ),
    _api(
        "PATCH",
        "/customers/{id}",
        customers.patch_customer,
        "customers.patch",
        "Change a customer",
        response=cust_s.CustomerOut,
        body=cust_s.CustomerPatch,
        errors=(409,),
    ),
    _api(
        "DELETE",
        "/customers/{id}",
        customers.delete_customer,
        "customers.delete",
        "Delete a customer without orders",
        ok=204,
        errors=(409,),
    ),
    _api(
        "GET",
        "/products",
        products.list_products,
        "products.list",
        "List products",
        response=prod_s.ProductPage,
        query=prod_s.ProductListQuery,
    ),
    _api(
        "POST",
        "/products",
        products.create_product,
        "products.create",
        "Create a product (admin)",
        ok=201,
        response=prod_s.ProductOut,
        body=prod_s.ProductCreate,
        errors=(403, 409),
    ),
    _api(
        "GET",
        "/products/{id}",
        products.get_product,
        "products.get",
        "Get a product",
        response=prod_s.ProductOut,
    ),
    _api(
        "PATCH",
        "/products/{id}",
        products.patch_product,
        "products.patch",
        "Change a product (admin)",
        response=prod_s.ProductOut,
        body=prod_s.ProductPatch,
        errors=(403,),
    ),
    _api(
        "POST",
        "/products/{id}/stock-adjustments",
        products.adjust_stock,
        "products.adjust_stock",
        "Adjust stock by a signed delta (admin)",
        ok=201,
        response=prod_s.StockAdjustmentOut,
        body=prod_s.StockAdjustmentRequest,
        errors=(403, 409),
    ),
    _api(
        "GET",
        "/orders",
        orders.list_orders,
        "orders.list",
        "List orders",
        response=ord_s.OrderPage,
        query=ord_s.OrderListQuery,
    ),
    _api(
        "POST",
        "/orders",
        orders.place_order,
        "orders.create",
        "Place an order: stock, order, lines, movements and invoice in one transaction",
        ok=201,
        response=ord_s.OrderOut,
        body=ord_s.OrderCreate,
        errors=(409,),
    ),
    _api(
        "GET",
        "/orders/{id}",
        orders.get_order,
        "orders.get",
        "Get an order with lines and invoice",
        response=ord_s.OrderOut,
    ),
    _api(
        "POST",
        "/orders/{id}/cancel",
        orders.cancel_order,
        "orders.cancel",
        "Cancel: restock, void the invoice (repeatable)",
        response=ord_s.OrderOut,
        errors=(409,),
    ),
    _api(
        "GET",
        "/invoices",
        orders.list_invoices,
        "invoices.list",
        "List invoices",
        response=ord_s.InvoicePage,
        query=ord_s.InvoiceListQuery,
    ),
    _api(
        "GET",
        "/invoices/{id}",
        orders.get_invoice,
        "invoices.get",
        "Get an invoice",
        response=ord_s.InvoiceOut,
    ),
    _api(
        "POST",
        "/invoices/{id}/pay",
        orders.pay_invoice,
        "invoices.pay",
        "Mark an invoice paid (repeatable)",
        response=ord_s.InvoiceOut,
        errors=(409,),
    ),
    _api(
        "GET",
        "/dashboard",
        orders.dashboard,
        "dashboard",
        "Tenant dashboard: one read after authentication",
        response=ord_s.DashboardOut,
    ),
)


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.router_path, route.handler, name=route.name)
