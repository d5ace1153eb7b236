"""Products and stock: reads for everyone, changes for admins only."""

from __future__ import annotations

from uuid import UUID

from domain.errors import InsufficientStock, InvalidInput, found, require_changes
from domain.model.identity import Principal
from domain.model.products import Movement, NewProduct, Product, ProductChanges, StockAdjustment
from domain.ports import IdempotencyClaim, ProductFilter, ProductReader, UnitOfWorkFactory
from domain.services.auth import require_admin
from domain.services.catalog import Catalog


class ProductService(Catalog[Product, ProductFilter]):
    def __init__(self, reader: ProductReader, uow: UnitOfWorkFactory) -> None:
        super().__init__(reader, "product")
        self._uow = uow

    async def create(
        self, principal: Principal, new: NewProduct, idempotency: IdempotencyClaim | None = None
    ) -> Product:
        require_admin(principal)
        async with self._uow(principal.tenant_id, idempotency) as uow:
            product = await uow.products.add(new)
            if new.stock:
                await uow.movements.add(
                    [Movement(product.id, new.stock, "adjustment", note="initial stock")]
                )
            uow.events.record("product.created", product)
            await uow.commit(product)
        return product

    async def update(
        self, principal: Principal, product_id: UUID, changes: ProductChanges
    ) -> Product:
        require_admin(principal)
        require_changes(changes)
        async with self._uow(principal.tenant_id) as uow:
            product = found(await uow.products.update(product_id, changes), "product")
            uow.events.record("product.updated", product)
            await uow.commit(product)
        return product

    async def adjust_stock(
        self,
        principal: Principal,
        product_id: UUID,
        delta: int,
        note: str | None,
        idempotency: IdempotencyClaim | None = None,
    ) -> StockAdjustment:
        require_admin(principal)
        if delta == 0:
            raise InvalidInput("delta must not be zero", {"delta": ["must not be zero"]})
        async with self._uow(principal.tenant_id, idempotency) as uow:
            locked = await uow.products.lock([product_id])
            product = found(locked.get(product_id), "product")
            if product.stock + delta < 0:
                raise InsufficientStock(
                    [
                        {
                            "product_id": str(product_id),
                            "requested": -delta,
                            "available": product.stock,
                        }
                    ]
                )
            await uow.products.apply([(product_id, delta)])
            await uow.movements.add([Movement(product_id, delta, "adjustment", note=note)])
            adjustment = StockAdjustment(product_id, delta, product.stock + delta, note)
            uow.events.record("product.stock_adjusted", adjustment)
            await uow.commit(adjustment)
        return adjustment
