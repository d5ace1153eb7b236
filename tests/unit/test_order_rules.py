"""The pure rules of domain/model/orders.py and money.py: no fakes, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.errors import InsufficientStock, InvalidInput, InvalidTransition, UnknownReferences
from domain.model.money import money
from domain.model.orders import (
    MAX_LINES,
    Invoice,
    InvoiceStatus,
    LineRequest,
    Order,
    OrderStatus,
    PlaceOrder,
    PricedProduct,
    Transition,
    cancelling,
    check_lines,
    invoice_number,
    paying,
    plan_order,
    sort_for_locking,
)

NOW = datetime(2025, 1, 2, tzinfo=UTC)


def priced(unit_price: str = "2.50", stock: int = 10, active: bool = True) -> PricedProduct:
    return PricedProduct(uuid4(), Decimal(unit_price), stock, active)


def order_of(*lines: tuple[UUID, int], note: str | None = None) -> PlaceOrder:
    return PlaceOrder(uuid4(), tuple(LineRequest(pid, qty) for pid, qty in lines), note)


def by_id(*products: PricedProduct) -> dict[UUID, PricedProduct]:
    return {p.id: p for p in products}


def invoice(status: InvoiceStatus) -> Invoice:
    return Invoice(uuid4(), uuid4(), "INV-000001", Decimal("5.00"), "EUR", status, NOW, None, None)


def order(status: OrderStatus = "placed", invoice: Invoice | None = None) -> Order:
    return Order(uuid4(), uuid4(), status, Decimal("5.00"), "EUR", None, NOW, None, (), invoice)


# ---- check_lines -----------------------------------------------------------------------------


def test_an_order_without_lines_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_lines(order_of())
    assert raised.value.errors == {"lines": ["give at least one line"]}


def test_an_order_may_have_exactly_max_lines() -> None:
    check_lines(order_of(*[(uuid4(), 1) for _ in range(MAX_LINES)]))


def test_an_order_with_one_line_more_than_max_lines_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_lines(order_of(*[(uuid4(), 1) for _ in range(MAX_LINES + 1)]))
    assert raised.value.errors == {"lines": [f"at most {MAX_LINES} lines"]}


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_line_with_a_quantity_below_one_is_refused(quantity: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_lines(order_of((uuid4(), 1), (uuid4(), quantity)))
    assert raised.value.errors == {"lines": ["quantity must be > 0"]}


def test_a_product_on_two_lines_is_refused_and_named_not_merged() -> None:
    twice, once = uuid4(), uuid4()
    with pytest.raises(InvalidInput) as raised:
        check_lines(order_of((twice, 1), (once, 1), (twice, 2)))
    assert raised.value.errors == {"lines": [f"product {twice} appears more than once"]}


def test_every_duplicated_product_is_named() -> None:
    a, b = uuid4(), uuid4()
    with pytest.raises(InvalidInput) as raised:
        check_lines(order_of((a, 1), (b, 1), (a, 1), (b, 1)))
    assert raised.value.errors["lines"] == [
        f"product {a} appears more than once",
        f"product {b} appears more than once",
    ]


# ---- plan_order ------------------------------------------------------------------------------


def test_a_plan_prices_each_line_at_the_locked_price_and_keeps_the_request_order() -> None:
    pen, ink = priced("1.25", stock=5), priced("19.99", stock=3)
    command = order_of((ink.id, 3), (pen.id, 4), note="by phone")

    plan = plan_order(command, True, by_id(pen, ink))

    assert [(ln.product_id, ln.quantity, ln.unit_price, ln.line_total) for ln in plan.lines] == [
        (ink.id, 3, Decimal("19.99"), Decimal("59.97")),
        (pen.id, 4, Decimal("1.25"), Decimal("5.00")),
    ]
    assert plan.total == Decimal("64.97")
    assert (plan.customer_id, plan.note) == (command.customer_id, "by phone")


def test_plan_totals_are_exact_cents_with_no_float_drift() -> None:
    dime = priced("0.10", stock=1000)

    plan = plan_order(order_of((dime.id, 3)), True, by_id(dime))

    assert str(plan.lines[0].line_total) == "0.30"
    assert str(plan.total) == "0.30"


def test_a_line_total_is_rounded_to_cents_half_to_even() -> None:
    odd = priced("0.125", stock=10)  # more places than the column keeps: rounding decides

    plan = plan_order(order_of((odd.id, 1)), True, by_id(odd))

    assert plan.lines[0].line_total == Decimal("0.12")
    assert plan.total == Decimal("0.12")


def test_an_order_for_exactly_the_stock_left_is_planned() -> None:
    last = priced(stock=2)
    plan = plan_order(order_of((last.id, 2)), True, by_id(last))
    assert plan.lines[0].quantity == 2


def test_plan_order_applies_the_line_rules_too() -> None:
    with pytest.raises(InvalidInput):
        plan_order(order_of(), True, {})


def test_an_unknown_customer_is_named_in_unknown_references() -> None:
    widget = priced()
    command = order_of((widget.id, 1))

    with pytest.raises(UnknownReferences) as raised:
        plan_order(command, False, by_id(widget))

    assert raised.value.missing == {"customer_id": [str(command.customer_id)]}


def test_every_unknown_and_inactive_product_is_named_in_one_error() -> None:
    known, retired = priced(), priced(active=False)
    ghost_a, ghost_b = uuid4(), uuid4()
    command = order_of((ghost_a, 1), (known.id, 1), (retired.id, 1), (ghost_b, 1))

    with pytest.raises(UnknownReferences) as raised:
        plan_order(command, False, by_id(known, retired))

    assert raised.value.missing == {
        "customer_id": [str(command.customer_id)],
        "product_ids": [str(ghost_a), str(ghost_b)],
        "inactive_product_ids": [str(retired.id)],
    }


def test_unknown_references_are_reported_before_shortages() -> None:
    short = priced(stock=0)
    with pytest.raises(UnknownReferences):
        plan_order(order_of((short.id, 1)), False, by_id(short))


def test_every_short_product_is_listed_with_what_was_asked_and_what_is_left() -> None:
    plenty, short_a, short_b = priced(stock=9), priced(stock=1), priced(stock=0)
    command = order_of((short_a.id, 2), (plenty.id, 9), (short_b.id, 5))

    with pytest.raises(InsufficientStock) as raised:
        plan_order(command, True, by_id(plenty, short_a, short_b))

    assert raised.value.shortages == [
        {"product_id": str(short_a.id), "requested": 2, "available": 1},
        {"product_id": str(short_b.id), "requested": 5, "available": 0},
    ]


# ---- cancel and pay rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    "invoice_status", [None, "open", "void"], ids=["no-invoice", "open", "void"]
)
def test_a_placed_order_that_is_not_paid_can_be_cancelled(
    invoice_status: InvoiceStatus | None,
) -> None:
    attached = invoice(invoice_status) if invoice_status else None
    assert cancelling(order("placed", attached)) is Transition.APPLIES


def test_a_paid_order_cannot_be_cancelled() -> None:
    with pytest.raises(InvalidTransition):
        cancelling(order("placed", invoice("paid")))


@pytest.mark.parametrize("invoice_status", ["void", "paid"])
def test_cancelling_a_cancelled_order_again_is_a_no_op_whatever_its_invoice(
    invoice_status: InvoiceStatus,
) -> None:
    assert cancelling(order("cancelled", invoice(invoice_status))) is Transition.ALREADY_DONE


def test_an_open_invoice_can_be_paid() -> None:
    assert paying(invoice("open")) is Transition.APPLIES


def test_paying_a_paid_invoice_again_is_a_no_op() -> None:
    assert paying(invoice("paid")) is Transition.ALREADY_DONE


def test_a_void_invoice_cannot_be_paid() -> None:
    with pytest.raises(InvalidTransition):
        paying(invoice("void"))


# ---- numbering, locking order, money ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "number"),
    [(1, "INV-000001"), (42, "INV-000042"), (999_999, "INV-999999"), (1_000_000, "INV-1000000")],
)
def test_invoice_numbers_are_zero_padded_to_six_digits_and_grow_past_them(
    sequence: int, number: str
) -> None:
    assert invoice_number(sequence) == number


def test_products_are_locked_in_id_order_each_once() -> None:
    a, b, c = sorted([uuid4(), uuid4(), uuid4()])
    assert sort_for_locking([c, a, b, a, c]) == [a, b, c]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, "5.00"),
        ("1.005", "1.00"),  # half to even: down to the even cent
        ("1.015", "1.02"),  # half to even: up to the even cent
        ("1.0151", "1.02"),
        (Decimal("-0.125"), "-0.12"),
    ],
)
def test_money_keeps_exactly_two_places_rounding_half_to_even(
    value: str | Decimal, expected: str
) -> None:
    assert str(money(value)) == expected
