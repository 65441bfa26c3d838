"""Views of text and data: plain text, Markdown, a number, JSON and class probabilities
(`Label`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._checks import Ctx, Obj, is_int, is_number, join, kind, number, string, uint
from .base import Component, register

TEXT_CHARS = 10_000_000


class _Text(Component):
    def __init__(
        self,
        text: str | None = None,
        *,
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        super().__init__(id=id, title=title, description=description, required=required, text=text)

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        text = o.req(ctx, "text", string(TEXT_CHARS))
        return None if text is None else {"text": text}

    @classmethod
    def quick_props(cls, props: dict[str, Any]) -> dict[str, Any] | None:
        text = props.get("text")
        if len(props) == 1 and type(text) is str and len(text) <= TEXT_CHARS:
            return {"text": text}
        return None


@register
class TextView(_Text):
    """Plain text.

    >>> ftr.Text.View("It is a seven.", id="answer").to_dict()
    {'id': 'answer', 'type': 'Text.View', 'required': True, 'text': 'It is a seven.'}
    """

    type = "Text.View"


@register
class MarkdownView(_Text):
    """Markdown, rendered without raw HTML.

    >>> answer = ftr.Markdown.View("**7**, with 93% confidence")
    """

    type = "Markdown.View"


@register
class NumberView(Component):
    """A number, such as a regressor's prediction, with an optional unit; `decimals` (0 to
    12) rounds what is shown, not the value sent.

    >>> ftr.Number.View(151.2, unit="mmHg", decimals=1).props
    {'value': 151.2, 'unit': 'mmHg', 'decimals': 1}
    """

    type = "Number.View"

    def __init__(
        self,
        value: float | None = None,
        *,
        unit: str | None = None,
        decimals: int | None = None,
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
            value=value,
            unit=unit,
            decimals=decimals,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        value = o.req(ctx, "value", number)
        unit = o.opt(ctx, "unit", string(64))
        decimals = o.opt(ctx, "decimals", uint(0, 12))
        if value is None:
            return None
        props: dict[str, Any] = {"value": value}
        if unit is not None:
            props["unit"] = unit
        if decimals is not None:
            props["decimals"] = decimals
        return props


@register
class JsonView(Component):
    """Any JSON document, shown as a collapsible tree.

    >>> details = ftr.Json.View({"digit": 7, "scores": [0.93, 0.04]})
    """

    type = "Json.View"

    def __init__(
        self,
        data: Any = None,
        *,
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        super().__init__(id=id, title=title, description=description, required=required, data=data)

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        got = o.get("data")
        if got is None:
            ctx.add(join(o.path, "data"), "is required")
            o.skip("data")
            return None
        return {"data": got[0]}


@register
class Label(Component):
    """Class probabilities shown as bars; `label` (default: the most likely class) is the
    prediction, `num_top_classes` limits how many bars are shown.

    >>> ftr.Label({"cat": 0.9, "dog": 0.1}, num_top_classes=1).props
    {'confidences': {'cat': 0.9, 'dog': 0.1}, 'num_top_classes': 1}
    """

    type = "Label"

    def __init__(
        self,
        confidences: Mapping[str, float] | None = None,
        *,
        label: str | None = None,
        num_top_classes: int | None = None,
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
            confidences=confidences,
            label=label,
            num_top_classes=num_top_classes,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        def read_confidences(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | None:
            if not isinstance(value, dict):
                ctx.add(path, f"expected an object of class to probability, found {kind(value)}")
                return None
            for name, x in value.items():
                if not (is_number(x) and 0.0 <= x <= 1.0):
                    ctx.add(join(path, name), "must be a number between 0 and 1")
            return value

        confidences = o.req(ctx, "confidences", read_confidences)
        label = o.opt(ctx, "label", string(1000))
        num_top_classes = o.opt(ctx, "num_top_classes", uint(1, 1000))
        if confidences is None:
            return None
        props: dict[str, Any] = {"confidences": confidences}
        if label is not None:
            props["label"] = label
        if num_top_classes is not None:
            props["num_top_classes"] = num_top_classes
        return props

    @classmethod
    def quick_props(cls, props: dict[str, Any]) -> dict[str, Any] | None:
        confidences = props.get("confidences")
        label = props.get("label")
        top = props.get("num_top_classes")
        if (
            props.keys() - {"confidences", "label", "num_top_classes"}
            or type(confidences) is not dict
            or not all(
                isinstance(k, str) and is_number(x) and 0.0 <= x <= 1.0
                for k, x in confidences.items()
            )
            or not (label is None or (type(label) is str and len(label) <= 1000))
            or not (top is None or (is_int(top) and 1 <= top <= 1000))
        ):
            return None
        # Keys as the reader has them: a NumPy string (a scikit-learn class) as a `str`.
        out: dict[str, Any] = {"confidences": {str(k): x for k, x in confidences.items()}}
        if label is not None:
            out["label"] = label
        if top is not None:
            out["num_top_classes"] = top
        return out
