"""The domain services the handlers call, gathered in one object by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import TenantDirectory
from domain.services.auth import AuthService
from domain.services.customers import CustomerService


@dataclass(frozen=True, slots=True)
class Services:
    tenants: TenantDirectory
    auth: AuthService
    customers: CustomerService
