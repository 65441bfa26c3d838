"""`Tensor.In`: an array of a given shape, for models whose input is neither a few fields nor a
table (an image already made into channels, rows and columns, say)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._checks import Ctx, Obj, is_int, is_number, join, kind, list_of
from .base import Component, register

MAX_ELEMENTS = 1 << 22
"""The most elements one value may hold."""
MAX_RANK = 8
_MAX_PROBLEMS = 10

DTYPES = (
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "string",
)

_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}


def _refuse(dtype: str, value: Any) -> str | None:
    """Why `value` is not an element of `dtype`, if it is not."""
    if dtype in ("float32", "float64"):
        return None if is_number(value) else "a number"
    if dtype == "bool":
        return None if isinstance(value, bool) else "true or false"
    if dtype == "string":
        return None if isinstance(value, str) else "a string"
    lo, hi = _RANGES[dtype]
    return None if is_int(value) and lo <= value <= hi else f"a whole number from {lo} to {hi}"


def _dim(ctx: Ctx, value: Any, path: str) -> int | None:
    if is_int(value) and (value == -1 or 1 <= value <= MAX_ELEMENTS):
        return value  # type: ignore[no-any-return]
    ctx.add(path, "must be a size of at least 1, or -1 for any size")
    return None


class _Walk:
    """Checks each level's length (a dimension of any size is still the same size throughout)
    and each element, stopping after a few problems."""

    def __init__(self, ctx: Ctx, dtype: str, shape: Sequence[int]) -> None:
        self.ctx, self.dtype, self.shape = ctx, dtype, shape
        self.sizes: list[int | None] = [None] * len(shape)
        self.elements = 0
        self.problems = 0

    def add(self, path: str, reason: str) -> None:
        if self.problems < _MAX_PROBLEMS:
            self.ctx.add(path, reason)
        self.problems += 1

    def visit(self, value: Any, path: str, depth: int) -> None:
        if self.problems >= _MAX_PROBLEMS or self.elements > MAX_ELEMENTS:
            return
        if depth == len(self.shape):
            self.elements += 1
            want = _refuse(self.dtype, value)
            if want is not None:
                self.add(path, f"expected {want}, found {kind(value)}")
            return
        dim = self.shape[depth]
        if not isinstance(value, list):
            rank = len(self.shape)
            self.add(path, f"expected an array (dimension {depth} of {rank}), found {kind(value)}")
            return
        want_len = dim if dim > 0 else self.sizes[depth]
        if want_len is not None and want_len != len(value):
            if dim > 0:
                reason = f"must have {want_len} items (dimension {depth}), found {len(value)}"
            else:
                reason = (
                    f"must have {want_len} items, as its neighbours do (dimension {depth}), "
                    f"found {len(value)}"
                )
            self.add(path, reason)
            return
        if not value:
            self.add(path, f"must not be empty (dimension {depth})")
            return
        self.sizes[depth] = len(value)
        for i, item in enumerate(value):
            self.visit(item, join(path, i), depth + 1)


@register
class TensorIn(Component):
    """An array of `shape` (a size per dimension, -1 for any size) of `dtype` elements; the value
    is nested lists, one level per dimension. A step receives a `numpy.ndarray` of the dtype
    when numpy is installed in its environment, else the nested lists.

    >>> pixels = ftr.Tensor.In(dtype="float32", shape=[3, 48, 192])
    >>> [p.path for p in ftr.Tensor.In(dtype="uint8", shape=[2]).validate_value([1, 300])]
    ['/1']
    """

    type = "Tensor.In"
    is_input = True

    def __init__(
        self,
        *,
        dtype: str = "float32",
        shape: Sequence[int],
        default: Any = None,
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        if hasattr(default, "tolist"):
            default = default.tolist()
        super().__init__(
            id=id,
            title=title,
            description=description,
            required=required,
            dtype=dtype,
            shape=list(shape),
            default=default,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        def read_dtype(ctx: Ctx, value: Any, path: str) -> str | None:
            if isinstance(value, str) and value in DTYPES:
                return value
            ctx.add(path, f"must be one of {', '.join(DTYPES)}")
            return None

        dtype = o.req(ctx, "dtype", read_dtype)
        shape = o.req(ctx, "shape", list_of(0, MAX_RANK, _dim))
        default = o.get("default")
        if dtype is None or shape is None:
            return None
        fixed = 1
        for d in shape:
            fixed *= max(d, 1)
        if fixed > MAX_ELEMENTS:
            ctx.add(
                join(o.path, "shape"),
                f"holds {fixed} elements; at most {MAX_ELEMENTS} are allowed",
            )
            return None
        props: dict[str, Any] = {"dtype": dtype, "shape": shape}
        if default is not None:
            props["default"] = default[0]
            before = len(ctx.problems)
            cls._check(props, ctx, *default)
            if len(ctx.problems) != before:
                return None
        return props

    @staticmethod
    def _check(props: dict[str, Any], ctx: Ctx, value: Any, path: str) -> None:
        walk = _Walk(ctx, props["dtype"], props["shape"])
        walk.visit(value, path, 0)
        if walk.elements > MAX_ELEMENTS:
            ctx.add(path, f"holds {walk.elements} elements; at most {MAX_ELEMENTS} are allowed")

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        if hasattr(value, "tolist"):
            value = value.tolist()
        self._check(self.props, ctx, value, path)
