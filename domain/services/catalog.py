"""What every resource's service reads the same way: one item by id, or a filtered page."""

from __future__ import annotations

from typing import Generic, TypeVar
from uuid import UUID

from domain.errors import found
from domain.model.paging import Page, PageRequest
from domain.ports import Reader

T = TypeVar("T")
F = TypeVar("F")


class Catalog(Generic[T, F]):
    def __init__(self, reader: Reader[T, F], what: str) -> None:
        self._reader = reader
        self._what = what

    async def list(self, tenant_id: UUID, page: PageRequest, where: F) -> Page[T]:
        return await self._reader.list(tenant_id, page, where)

    async def get(self, tenant_id: UUID, item_id: UUID) -> T:
        """The item, or NotFound("<what> not found")."""
        return found(await self._reader.get(tenant_id, item_id), self._what)
