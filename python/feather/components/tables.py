"""Tables: rows of typed cells, as an input (`Table.In`) and as a view (`Table.View`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._checks import (
    Ctx,
    Obj,
    is_int,
    is_number,
    join,
    kind,
    list_of,
    nonempty,
    string,
    uint,
    unique,
)
from .base import Component, register

CELL_TYPES = ("string", "number", "integer", "boolean")

ColumnLike = str | tuple[str, str] | dict[str, str]
"""A column of `Table.In`: a name (of strings), `(name, type)` or `{"name", "type"}`."""


def _accepts(cell_type: str, value: Any) -> bool:
    if cell_type == "string":
        return isinstance(value, str)
    if cell_type == "number":
        return is_number(value)
    if cell_type == "integer":
        return is_int(value)
    return isinstance(value, bool)


def _read_column(ctx: Ctx, value: Any, path: str) -> dict[str, str] | None:
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    name = o.req(ctx, "name", nonempty(200))
    cell = o.opt(ctx, "type", string(16))
    if cell is not None and cell not in CELL_TYPES:
        ctx.add(join(path, "type"), "must be one of string, number, integer, boolean")
        cell = "string"
    o.finish(ctx)
    return None if name is None else {"name": name, "type": cell or "string"}


def _column(column: Any) -> Any:
    if isinstance(column, str):
        return {"name": column}
    if isinstance(column, tuple) and len(column) == 2:
        return {"name": column[0], "type": column[1]}
    return column


@register
class TableIn(Component):
    """Rows typed in by the person; the value is an array of rows, each with one cell per column
    of the column's type.

    >>> table = ftr.Table.In(columns=["city", ("people", "integer")], max_rows=10)
    >>> table.columns
    [{'name': 'city', 'type': 'string'}, {'name': 'people', 'type': 'integer'}]
    >>> [p.path for p in table.validate_value([["Oslo", "many"]])]
    ['/0/1']
    """

    type = "Table.In"
    is_input = True

    def __init__(
        self,
        *,
        columns: Sequence[ColumnLike],
        min_rows: int = 1,
        max_rows: int = 1000,
        default: Sequence[Sequence[Any]] | None = None,
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
            columns=[_column(c) for c in columns],
            min_rows=min_rows,
            max_rows=max_rows,
            default=default,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        columns = o.req(ctx, "columns", list_of(1, 256, _read_column))
        min_rows = o.opt(ctx, "min_rows", uint(0, 100_000))
        max_rows = o.opt(ctx, "max_rows", uint(1, 100_000))
        default = o.get("default")
        if columns is None:
            return None
        props: dict[str, Any] = {
            "columns": columns,
            "min_rows": 1 if min_rows is None else min_rows,
            "max_rows": 1000 if max_rows is None else max_rows,
        }
        names = [c["name"] for c in columns]
        for i, name in enumerate(names):
            if name in names[:i]:
                ctx.add(join(join(o.path, "columns"), i), f"repeats column name {name!r}")
        if props["max_rows"] < props["min_rows"]:
            ctx.add(join(o.path, "max_rows"), f"must be at least min_rows ({props['min_rows']})")
        if default is not None:
            props["default"] = default[0]
            cls._check(props, ctx, *default)
        return props

    @staticmethod
    def _check(props: dict[str, Any], ctx: Ctx, value: Any, path: str) -> None:
        columns = props["columns"]
        width = len(columns)

        def row(ctx: Ctx, cells: Any, p: str) -> Any:
            if not isinstance(cells, list) or len(cells) != width:
                return list_of(width, width, lambda *_: True)(ctx, cells, p)
            for i, (column, cell) in enumerate(zip(columns, cells, strict=True)):
                if not _accepts(column["type"], cell):
                    expected = f"expected {column['type']} for column {column['name']!r}"
                    ctx.add(join(p, i), f"{expected}, found {kind(cell)}")
            return True

        list_of(props["min_rows"], props["max_rows"], row)(ctx, value, path)

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        self._check(self.props, ctx, value, path)


@register
class TableView(Component):
    """A table shown to the person: column names and rows of scalars (one per column).

    >>> scores = ftr.Table.View(columns=["class", "score"], rows=[["cat", 0.9], ["dog", 0.1]])
    """

    type = "Table.View"

    def __init__(
        self,
        *,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
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
            columns=columns,
            rows=rows,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        columns = o.req(ctx, "columns", list_of(1, 256, string(200)))
        if columns is not None:
            unique(ctx, join(o.path, "columns"), columns, "column")
        width = None if columns is None else len(columns)

        def row(ctx: Ctx, value: Any, path: str) -> list[Any] | None:
            if not isinstance(value, list):
                ctx.add(path, f"expected an array, found {kind(value)}")
                return None
            if width is not None and len(value) != width:
                ctx.add(path, f"must have {width} cells, one per column")
            for i, cell in enumerate(value):
                if isinstance(cell, (list, dict)):
                    ctx.add(join(path, i), "expected a string, number, boolean or null")
            return value

        rows = o.req(ctx, "rows", list_of(0, 1_000_000, row))
        if columns is None or rows is None:
            return None
        return {"columns": columns, "rows": rows}
