"""The domain services the handlers call, gathered in one object by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import TenantDirectory
from domain.services.auth import AuthService
from domain.services.customers import CustomerService
from domain.services.dashboard import DashboardService
from domain.services.invoices import InvoiceService
from domain.services.orders import OrderService
from domain.services.products import ProductService


@dataclass(frozen=True, slots=True)
class Services:
    tenants: TenantDirectory
    auth: AuthService
    customers: CustomerService
    products: ProductService
    orders: OrderService
    invoices: InvoiceService
    dashboard: DashboardService
