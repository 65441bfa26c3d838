"""Inputs whose props are plain settings: text, numbers, a slider, a tick box."""

from __future__ import annotations

from typing import Any

from .._checks import Ctx, Obj, boolean, join, list_of, number, string, uint
from .base import Component, register

MAX_CHARS = 1_000_000
"""The most characters any text input may be set to accept."""


@register
class TextIn(Component):
    """One or more text fields; the value is a string, or `num_inputs` strings when above 1.

    >>> question = ftr.Text.In(title="Question", max_chars=500, placeholder="Ask anything")
    >>> question.validate_value("What is a seven?")
    []
    """

    type = "Text.In"
    is_input = True

    def __init__(
        self,
        *,
        default_text: str = "",
        num_inputs: int = 1,
        max_chars: int = 10_000,
        placeholder: str = "",
        multiline: bool = False,
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
            default_text=default_text,
            num_inputs=num_inputs,
            max_chars=max_chars,
            placeholder=placeholder,
            multiline=multiline,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        default_text = o.opt(ctx, "default_text", string(MAX_CHARS))
        num_inputs = o.opt(ctx, "num_inputs", uint(1, 64))
        max_chars = o.opt(ctx, "max_chars", uint(1, MAX_CHARS))
        placeholder = o.opt(ctx, "placeholder", string(1000))
        multiline = o.opt(ctx, "multiline", boolean)
        default_text = "" if default_text is None else default_text
        max_chars = 10_000 if max_chars is None else max_chars
        if len(default_text) > max_chars:
            ctx.add(join(o.path, "default_text"), "is longer than max_chars")
        return {
            "default_text": default_text,
            "num_inputs": 1 if num_inputs is None else num_inputs,
            "max_chars": max_chars,
            "placeholder": "" if placeholder is None else placeholder,
            "multiline": False if multiline is None else multiline,
        }

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        one = string(self.props["max_chars"])
        n = self.props["num_inputs"]
        if n == 1:
            one(ctx, value, path)
        else:
            list_of(n, n, one)(ctx, value, path)


def _check_between(ctx: Ctx, x: float, lo: float, hi: float, path: str) -> None:
    if x < lo or x > hi:
        ctx.add(path, f"must be between {lo} and {hi}")


@register
class NumberIn(Component):
    """A number typed in, optionally bounded (`min`, `max`) and whole (`integer`).

    >>> age = ftr.Number.In(title="Age", min=0, max=130, integer=True)
    >>> [p.reason for p in age.validate_value(41.5)]
    ['must be a whole number']
    """

    type = "Number.In"
    is_input = True

    def __init__(
        self,
        *,
        min: float | None = None,
        max: float | None = None,
        step: float | None = None,
        default: float | None = None,
        integer: bool = False,
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
            min=min,
            max=max,
            step=step,
            default=default,
            integer=integer,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        props: dict[str, Any] = {}
        for key in ("min", "max", "step", "default"):
            value = o.opt(ctx, key, number)
            if value is not None:
                props[key] = value
        integer = o.opt(ctx, "integer", boolean)
        props["integer"] = integer if integer is not None else False
        lo, hi = props.get("min"), props.get("max")
        if lo is not None and hi is not None and lo > hi:
            ctx.add(join(o.path, "max"), "must be at least min")
        if props.get("step") is not None and props["step"] <= 0:
            ctx.add(join(o.path, "step"), "must be greater than 0")
        if props.get("default") is not None:
            cls._check_number(props, ctx, props["default"], join(o.path, "default"))
        return props

    @staticmethod
    def _check_number(props: dict[str, Any], ctx: Ctx, x: float, path: str) -> None:
        lo, hi = props.get("min"), props.get("max")
        if lo is not None and x < lo:
            ctx.add(path, f"must be at least {lo}")
        elif hi is not None and x > hi:
            ctx.add(path, f"must be at most {hi}")
        elif props["integer"] and float(x) != int(x):
            ctx.add(path, "must be a whole number")

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        x = number(ctx, value, path)
        if x is not None:
            self._check_number(self.props, ctx, x, path)


@register
class Slider(Component):
    """A number picked on a bounded slider; `min` < `max` are required.

    >>> temperature = ftr.Slider(title="Temperature", min=0, max=2, step=0.1, default=0.7)
    >>> temperature.props
    {'min': 0, 'max': 2, 'step': 0.1, 'default': 0.7}
    """

    type = "Slider"
    is_input = True

    def __init__(
        self,
        *,
        min: float,
        max: float,
        step: float = 1,
        default: float | None = None,
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
            min=min,
            max=max,
            step=step,
            default=default,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        lo = o.req(ctx, "min", number)
        hi = o.req(ctx, "max", number)
        step = o.opt(ctx, "step", number)
        default = o.opt(ctx, "default", number)
        if lo is None or hi is None:
            return None
        props: dict[str, Any] = {"min": lo, "max": hi, "step": 1 if step is None else step}
        if default is not None:
            props["default"] = default
        if lo >= hi:
            ctx.add(join(o.path, "max"), "must be greater than min")
        if props["step"] <= 0:
            ctx.add(join(o.path, "step"), "must be greater than 0")
        if default is not None:
            _check_between(ctx, default, lo, hi, join(o.path, "default"))
        return props

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        x = number(ctx, value, path)
        if x is not None:
            _check_between(ctx, x, self.props["min"], self.props["max"], path)


@register
class Checkbox(Component):
    """A yes/no tick box; the value is a boolean.

    >>> ftr.Checkbox(title="Explain the answer", default=True).to_dict()
    {'type': 'Checkbox', 'title': 'Explain the answer', 'required': True, 'default': True}
    """

    type = "Checkbox"
    is_input = True

    def __init__(
        self,
        *,
        default: bool = False,
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        super().__init__(
            id=id, title=title, description=description, required=required, default=default
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        default = o.opt(ctx, "default", boolean)
        return {"default": default if default is not None else False}

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        boolean(ctx, value, path)
