"""Inputs that pick from a list of items: one (`List.SelectOne`) or several (`List.SelectMulti`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._checks import Ctx, Obj, join, kind, list_of, nonempty, string, uint, unique
from .base import Component, register


def read_items(ctx: Ctx, o: Obj) -> list[str] | None:
    """`items`: 1 to 1,000 unique non-empty strings."""
    items = o.req(ctx, "items", list_of(1, 1000, nonempty(1000)))
    if items is None:
        return None
    return items if unique(ctx, join(o.path, "items"), items, "item") else None


def read_style(ctx: Ctx, o: Obj, allowed: Sequence[str]) -> str:
    """`style`, one of `allowed`; the first is the default."""
    style = o.opt(ctx, "style", string(32))
    if style is None:
        return allowed[0]
    if style not in allowed:
        ctx.add(join(o.path, "style"), f"must be one of {', '.join(allowed)}")
        return allowed[0]
    return str(style)


def check_choice(ctx: Ctx, items: list[str], value: Any, path: str) -> None:
    """`value` must be one of `items`."""
    if not isinstance(value, str):
        ctx.add(path, f"expected a string, found {kind(value)}")
    elif value not in items:
        ctx.add(path, f"{value!r} is not one of the items")


def check_choices(ctx: Ctx, items: list[str], lo: int, hi: int, value: Any, path: str) -> None:
    """`value` must be an array of `lo` to `hi` distinct `items`."""

    def one(ctx: Ctx, x: Any, p: str) -> Any:
        check_choice(ctx, items, x, p)
        return x if isinstance(x, str) else None

    chosen = list_of(lo, hi, one)(ctx, value, path)
    if chosen is not None:
        unique(ctx, path, chosen, "choice")


@register
class SelectOne(Component):
    """One choice among `items`, shown as radio buttons or a dropdown; the value is the item.

    >>> pet = ftr.List.SelectOne(items=["cat", "dog"], style="dropdown", default="cat")
    >>> pet.validate_value("cow")
    [Problem(path='', reason="'cow' is not one of the items")]
    """

    type = "List.SelectOne"
    is_input = True

    def __init__(
        self,
        *,
        items: Sequence[str],
        style: str = "radio",
        default: str | None = None,
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        super().__init__(
            id=id,
            title=title,
            description=description,
            required=required,
            items=items,
            style=style,
            default=default,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        items = read_items(ctx, o)
        style = read_style(ctx, o, ("radio", "dropdown"))
        default = o.opt(ctx, "default", string(1000))
        if items is None:
            return None
        props: dict[str, Any] = {"items": items, "style": style}
        if default is not None:
            props["default"] = default
            check_choice(ctx, items, default, join(o.path, "default"))
        return props

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        check_choice(ctx, self.props["items"], value, path)


@register
class SelectMulti(Component):
    """Several distinct choices among `items`; the value is an array of items.

    >>> colours = ftr.List.SelectMulti(items=["red", "green", "blue"], max_selected=2)
    >>> colours.default, colours.validate_value(["red", "blue"])
    ([], [])
    """

    type = "List.SelectMulti"
    is_input = True

    def __init__(
        self,
        *,
        items: Sequence[str],
        style: str = "checkbox",
        min_selected: int = 0,
        max_selected: int | None = None,
        default: Sequence[str] = (),
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        super().__init__(
            id=id,
            title=title,
            description=description,
            required=required,
            items=items,
            style=style,
            min_selected=min_selected,
            max_selected=max_selected,
            default=default,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        items = read_items(ctx, o)
        style = read_style(ctx, o, ("checkbox", "dropdown"))
        min_selected = o.opt(ctx, "min_selected", uint(0, 1000))
        min_selected = 0 if min_selected is None else min_selected
        max_selected = o.opt(ctx, "max_selected", uint(1, 1000))
        default = o.opt(ctx, "default", list_of(0, 1000, string(1000)))
        if items is None:
            return None
        props: dict[str, Any] = {"items": items, "style": style, "min_selected": min_selected}
        if max_selected is not None:
            props["max_selected"] = max_selected
        props["default"] = default if default is not None else []
        n = len(items)
        if max_selected is not None:
            if max_selected > n:
                ctx.add(join(o.path, "max_selected"), f"must be at most the number of items ({n})")
            elif max_selected < min_selected:
                ctx.add(join(o.path, "max_selected"), "must be at least min_selected")
        if min_selected > n:
            ctx.add(join(o.path, "min_selected"), f"must be at most the number of items ({n})")
        if props["default"]:
            check_choices(ctx, items, 0, n, props["default"], join(o.path, "default"))
        return props

    def _bounds(self) -> tuple[int, int]:
        hi = self.props.get("max_selected")
        return self.props["min_selected"], len(self.props["items"]) if hi is None else hi

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        lo, hi = self._bounds()
        check_choices(ctx, self.props["items"], lo, hi, value, path)
