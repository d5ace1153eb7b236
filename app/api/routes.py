"""Every route and all of its rules, in one table.

A row says what the route is (method, path, handler, summary), who may call it (`access`),
which admission gate it queues at, whether it takes an Idempotency-Key, what it reads (query
and body schemas) and what it answers (status, response schema, `Location`). The router, the
pipeline (app/edge/pipeline.py) and the OpenAPI document all read these rows; nothing else
decides a route's rules by its name or path. Adding an endpoint is one row here, one handler
and one service method (docs/architecture.md shows an example).
"""

from __future__ import annotations

from typing import Any

from app.api import (
    api_keys,
    auth,
    customers,
    dashboard,
    events,
    invoices,
    orders,
    products,
    webhooks,
)
from app.api.schemas import api_keys as api_key_s
from app.api.schemas import auth as auth_s
from app.api.schemas import customers as customer_s
from app.api.schemas import dashboard as dashboard_s
from app.api.schemas import events as event_s
from app.api.schemas import invoices as invoice_s
from app.api.schemas import orders as order_s
from app.api.schemas import products as product_s
from app.api.schemas import webhooks as webhook_s
from app.api.schemas.common import PageQuery
from app.edge.rules import Access, ApiHandler, Route
from app.ops import endpoints as ops
from domain.model.events import MAX_WAIT_SECONDS

API = "/api/sales"

# An order shows its invoice, and an invoice is listed by its order's customer (issue 22).
_ORDER_KINDS = ("orders", "invoices")


def _open(path: str, handler: ApiHandler, name: str, summary: str, **rules: Any) -> Route:
    return Route("GET", path, handler, name, summary, access=Access.OPEN, **rules)


def _read(path: str, handler: ApiHandler, name: str, summary: str, **rules: Any) -> Route:
    return Route("GET", API + path, handler, name, summary, gate="reads", **rules)


def _command(
    method: str, path: str, handler: ApiHandler, name: str, summary: str, **rules: Any
) -> Route:
    return Route(method, API + path, handler, name, summary, gate="commands", **rules)


ROUTES: tuple[Route, ...] = (
    _open("/healthz", ops.healthz, "healthz", "Liveness (no database)"),
    _open("/readyz", ops.readyz, "readyz", "Readiness: the pool answers select 1", errors=(503,)),
    _open("/openapi.json", ops.openapi, "openapi", "This document"),
    Route(
        "POST",
        API + "/auth/login",
        auth.login,
        "auth.login",
        "Log in; sets the session cookie",
        # Not gated: login waits on argon2 in its own bounded thread pool and is rate limited;
        # inside the gate a login storm would take every place while it hashes.
        access=Access.TENANT,
        throttled=True,
        no_store=True,
        body=auth_s.LoginRequest,
        response=auth_s.LoginResponse,
        errors=(401, 429),
    ),
    _command(
        "POST", "/auth/logout", auth.logout, "auth.logout", "Revoke the current session", status=204
    ),
    _command(
        "POST",
        "/auth/logout-all",
        auth.logout_all,
        "auth.logout_all",
        "Revoke every session of the calling user (issue 19)",
        status=204,
        errors=(403,),
    ),
    _read(
        "/auth/me",
        auth.me,
        "auth.me",
        "The calling principal",
        no_store=True,
        response=auth_s.PrincipalOut,
    ),
    _command(
        "POST",
        "/api-keys",
        api_keys.create_api_key,
        "api_keys.create",
        "Create an API key (admin); its secret is in this answer only",
        body=api_key_s.ApiKeyCreate,
        response=api_key_s.ApiKeyCreated,
        status=201,
        no_store=True,
        errors=(403,),
    ),
    _read(
        "/api-keys",
        api_keys.list_api_keys,
        "api_keys.list",
        "List the tenant's API keys (admin); never their secrets",
        query=PageQuery,
        response=api_key_s.ApiKeyPage,
        no_store=True,
        errors=(403,),
    ),
    _command(
        "DELETE",
        "/api-keys/{id}",
        api_keys.revoke_api_key,
        "api_keys.revoke",
        "Revoke an API key (admin); it is refused from then on",
        status=204,
        errors=(403,),
    ),
    _read(
        "/customers",
        customers.list_customers,
        "customers.list",
        "List customers (keyset pages)",
        query=customer_s.CustomerListQuery,
        response=customer_s.CustomerPage,
        depends_on=("customers",),
    ),
    _command(
        "POST",
        "/customers",
        customers.create_customer,
        "customers.create",
        "Create a customer",
        idempotent=True,
        body=customer_s.CustomerCreate,
        response=customer_s.CustomerOut,
        status=201,
        location="customers.get",
        errors=(409,),
    ),
    _read(
        "/customers/{id}",
        customers.get_customer,
        "customers.get",
        "Get a customer",
        response=customer_s.CustomerOut,
        depends_on=("customers",),
    ),
    _command(
        "PATCH",
        "/customers/{id}",
        customers.patch_customer,
        "customers.patch",
        "Change a customer",
        body=customer_s.CustomerPatch,
        response=customer_s.CustomerOut,
        errors=(409,),
    ),
    _command(
        "DELETE",
        "/customers/{id}",
        customers.delete_customer,
        "customers.delete",
        "Delete a customer without orders",
        status=204,
        errors=(409,),
    ),
    _read(
        "/products",
        products.list_products,
        "products.list",
        "List products",
        query=product_s.ProductListQuery,
        response=product_s.ProductPage,
        depends_on=("products",),
    ),
    _command(
        "POST",
        "/products",
        products.create_product,
        "products.create",
        "Create a product (admin)",
        idempotent=True,
        body=product_s.ProductCreate,
        response=product_s.ProductOut,
        status=201,
        location="products.get",
        errors=(403, 409),
    ),
    _read(
        "/products/{id}",
        products.get_product,
        "products.get",
        "Get a product",
        response=product_s.ProductOut,
        depends_on=("products",),
    ),
    _command(
        "PATCH",
        "/products/{id}",
        products.patch_product,
        "products.patch",
        "Change a product (admin)",
        body=product_s.ProductPatch,
        response=product_s.ProductOut,
        errors=(403,),
    ),
    _command(
        "POST",
        "/products/{id}/stock-adjustments",
        products.adjust_stock,
        "products.adjust_stock",
        "Adjust stock by a signed delta (admin)",
        idempotent=True,
        body=product_s.StockAdjustmentRequest,
        response=product_s.StockAdjustmentOut,
        status=201,
        errors=(403, 409),
    ),
    _read(
        "/orders",
        orders.list_orders,
        "orders.list",
        "List orders",
        query=order_s.OrderListQuery,
        response=order_s.OrderPage,
        depends_on=_ORDER_KINDS,
    ),
    _command(
        "POST",
        "/orders",
        orders.place_order,
        "orders.create",
        "Place an order: stock, order, lines, movements and invoice in one transaction",
        idempotent=True,
        body=order_s.OrderCreate,
        response=order_s.OrderOut,
        status=201,
        location="orders.get",
        errors=(409,),
    ),
    _read(
        "/orders/{id}",
        orders.get_order,
        "orders.get",
        "Get an order with lines and invoice",
        response=order_s.OrderOut,
        depends_on=_ORDER_KINDS,
    ),
    _command(
        "POST",
        "/orders/{id}/cancel",
        orders.cancel_order,
        "orders.cancel",
        "Cancel: restock, void the invoice (repeatable); an optional reason is stored",
        idempotent=True,
        body=order_s.CancelRequest,
        body_required=False,
        response=order_s.OrderOut,
        errors=(409,),
    ),
    _read(
        "/invoices",
        invoices.list_invoices,
        "invoices.list",
        "List invoices",
        query=invoice_s.InvoiceListQuery,
        response=invoice_s.InvoicePage,
        depends_on=_ORDER_KINDS,
    ),
    _read(
        "/invoices/{id}",
        invoices.get_invoice,
        "invoices.get",
        "Get an invoice",
        response=invoice_s.InvoiceOut,
        depends_on=_ORDER_KINDS,
    ),
    _command(
        "POST",
        "/invoices/{id}/pay",
        invoices.pay_invoice,
        "invoices.pay",
        "Mark an invoice paid (repeatable); optional method and reference are stored",
        idempotent=True,
        body=invoice_s.PaymentRequest,
        body_required=False,
        response=invoice_s.InvoiceOut,
        errors=(409,),
    ),
    _read(
        "/dashboard",
        dashboard.summary,
        "dashboard",
        "Tenant dashboard: one read after authentication",
        response=dashboard_s.DashboardOut,
        depends_on=("dashboard",),
    ),
    # Issue 18: the change feed (docs/events.md).
    _read(
        "/events",
        events.list_events,
        "events.list",
        "The change feed: events after a cursor in commit order; `wait` long-polls",
        query=event_s.EventListQuery,
        response=event_s.EventPage,
        errors=(410,),
        long_poll=MAX_WAIT_SECONDS,
    ),
    # Issue 18: webhook endpoints, admins only (the service checks the role).
    _command(
        "POST",
        "/webhooks",
        webhooks.create_webhook,
        "webhooks.create",
        "Create a webhook endpoint (admin); its signing secret is in this answer only",
        body=webhook_s.WebhookCreate,
        response=webhook_s.WebhookCreated,
        status=201,
        location="webhooks.get",
        no_store=True,
        errors=(403,),
    ),
    _read(
        "/webhooks",
        webhooks.list_webhooks,
        "webhooks.list",
        "List webhook endpoints (admin); never their secrets",
        query=PageQuery,
        response=webhook_s.WebhookPage,
        errors=(403,),
    ),
    _read(
        "/webhooks/{id}",
        webhooks.get_webhook,
        "webhooks.get",
        "Get a webhook endpoint (admin)",
        response=webhook_s.WebhookOut,
        errors=(403,),
    ),
    _command(
        "PATCH",
        "/webhooks/{id}",
        webhooks.patch_webhook,
        "webhooks.patch",
        "Change a webhook endpoint's URL, types, description or enabled (admin)",
        body=webhook_s.WebhookPatch,
        response=webhook_s.WebhookOut,
        errors=(403,),
    ),
    _command(
        "DELETE",
        "/webhooks/{id}",
        webhooks.delete_webhook,
        "webhooks.delete",
        "Delete a webhook endpoint and its deliveries log (admin)",
        status=204,
        errors=(403,),
    ),
    _read(
        "/webhooks/{id}/deliveries",
        webhooks.list_deliveries,
        "webhooks.deliveries",
        "The endpoint's deliveries log, newest first: every attempt and queued resend (admin)",
        query=PageQuery,
        response=webhook_s.DeliveryPage,
        errors=(403,),
    ),
    _command(
        "POST",
        "/webhooks/{id}/deliveries/{delivery_id}/retry",
        webhooks.retry_delivery,
        "webhooks.retry",
        "Send that delivery's event to the endpoint again (admin)",
        response=webhook_s.DeliveryOut,
        status=202,
        errors=(403,),
    ),
)

ROUTES_BY_NAME: dict[str, Route] = {route.name: route for route in ROUTES}
