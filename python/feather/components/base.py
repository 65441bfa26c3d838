"""The `Component` base class: common fields, canonical JSON, loading and value checks."""

from __future__ import annotations

import builtins
import copy as _copy
import os
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from .._checks import COMPONENT_ID_RE, Ctx, Obj, boolean, join, string
from ..errors import ManifestError, Problem
from ..files import local_file


def to_json(value: Any) -> Any:
    """Python values as JSON values: tuples become lists, paths become strings."""
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def file_refs(value: Any) -> Any:
    """Let callers name bundle files by path: `"cat.png"` stands for `{"path": "cat.png"}`;
    files made at run time (an absolute path, bytes, a PIL image) become `LocalFile`s."""
    if not isinstance(value, (list, tuple)):
        return value
    return [_file_ref(v) for v in value]


def _file_ref(value: Any) -> Any:
    local = local_file(value)
    if local is not None:
        return local
    if isinstance(value, (str, os.PathLike)):
        return {"path": os.fspath(value)}
    return value


C = TypeVar("C", bound="Component")


class Component:
    """A typed UI and API element of a model: an input (it takes a value) or a view.

    Construct one through its type, e.g. `ftr.Text.In(max_chars=100)`: the props are checked at
    once and a `ManifestError` lists every problem. Props read as attributes
    (`ftr.Text.In().max_chars == 10000`); `to_dict()` gives the canonical JSON the server stores.
    """

    type: ClassVar[str] = ""
    """The component's `type` in the manifest, e.g. `"Text.In"`."""
    is_input: ClassVar[bool] = False
    """Whether the component takes a value (an input) or only shows its props (a view)."""

    id: str | None
    title: str | None
    description: str | None
    required: bool
    props: dict[str, Any]

    def __init__(
        self,
        *,
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
        **props: Any,
    ) -> None:
        # Steps build their outputs with these constructors on every call: plainly valid props
        # skip the reader, and anything else goes through it for the full list of problems.
        quick = type(self).quick_props(props) if _plain(id, title, description, required) else None
        if quick is not None:
            self.id, self.title, self.description = id, title, description
            self.required = required
            self.props = quick
            return
        data: dict[str, Any] = {"type": self.type}
        for key, value in (("id", id), ("title", title), ("description", description)):
            if value is not None:
                data[key] = value
        data["required"] = required
        data.update({k: to_json(v) for k, v in props.items() if v is not None})
        self._load(data)

    def _load(self, data: Any) -> None:
        ctx = Ctx()
        canonical = read_component(ctx, data, "", need_id=False)
        if ctx.problems or canonical is None:
            what = data.get("type") if isinstance(data, dict) else None
            raise ManifestError(ctx.problems, f"invalid {what or 'component'}")
        self.id = canonical.pop("id", None)
        canonical.pop("type")
        self.title = canonical.pop("title", None)
        self.description = canonical.pop("description", None)
        self.required = canonical.pop("required")
        self.props = canonical

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        """Read the type's props from `o`, in canonical order with defaults filled in."""
        raise NotImplementedError

    @classmethod
    def quick_props(cls, props: dict[str, Any]) -> dict[str, Any] | None:
        """The canonical props `read_props` would give for the constructor's `props` (absent
        ones `None`), when they are plainly valid and need no conversion; `None` sends them
        through the reader. Only the views steps return often have one."""
        return None

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        """Record the problems of a non-null value at `path`; inputs override it."""
        ctx.add(path, "this component shows a result and takes no value")

    def __getattr__(self, name: str) -> Any:
        props = self.__dict__.get("props", {})
        if name in props:
            return props[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def to_dict(self, *, copy: bool = True) -> dict[str, Any]:
        """The canonical JSON: every prop with its default filled in, optional props left out
        when unset; keys in the order id, type, title, description, required, props.

        `copy=False` shares the props' values with the component instead of copying them, for
        callers that only read the result.

        >>> ftr.Checkbox(id="agree").to_dict()
        {'id': 'agree', 'type': 'Checkbox', 'required': True, 'default': False}
        """
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out["type"] = self.type
        if self.title is not None:
            out["title"] = self.title
        if self.description is not None:
            out["description"] = self.description
        out["required"] = self.required
        out.update(_copy.deepcopy(self.props) if copy else self.props)
        return out

    @classmethod
    def from_dict(cls: builtins.type[C], data: Mapping[str, Any]) -> C:
        """Load a component from its JSON; `Component.from_dict` picks the class by `type`.

        >>> Component.from_dict({"id": "agree", "type": "Checkbox"}).to_dict()["default"]
        False
        """
        data = dict(data)
        target = cls
        if not cls.type and isinstance(data.get("type"), str):
            target = COMPONENT_TYPES.get(data["type"], cls)  # type: ignore[assignment]
        if target.type and data.get("type") != target.type:
            found = data.get("type")
            problem = Problem("/type", f"must be {target.type!r}, found {found!r}")
            raise ManifestError([problem], f"invalid {target.type}")
        obj = target.__new__(target)
        obj._load(data)
        return obj

    def with_id(self, id: str) -> Component:
        """A copy of this component with `id` set."""
        return type(self).from_dict({**self.to_dict(), "id": id})

    def validate_value(self, value: Any) -> list[Problem]:
        """Every problem of a value answered for this component, paths relative to the value.

        `None` stands for no answer, accepted when the input is not required; a view takes no
        value at all.

        >>> ftr.Checkbox().validate_value("yes")
        [Problem(path='', reason='expected a boolean, found a string')]
        """
        ctx = Ctx()
        if value is None:
            if self.is_input and self.required:
                ctx.add("", "a value is required")
        else:
            self.check(ctx, value, "")
        return ctx.problems

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Component) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.type, self.id))

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{self.type}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


def _plain(id: Any, title: Any, description: Any, required: Any) -> bool:
    """Whether the common fields are valid as given, as `read_component` would find them."""
    return (
        (id is None or (type(id) is str and COMPONENT_ID_RE.fullmatch(id) is not None))
        and (title is None or (type(title) is str and len(title) <= 200))
        and (description is None or (type(description) is str and len(description) <= 2000))
        and type(required) is bool
    )


COMPONENT_TYPES: dict[str, type[Component]] = {}
"""Every component class by its `type`, in catalogue order."""


def register(cls: type[Component]) -> type[Component]:
    COMPONENT_TYPES[cls.type] = cls
    return cls


def read_component(
    ctx: Ctx, value: Any, path: str, *, need_id: bool = True
) -> dict[str, Any] | None:
    """Read one component's JSON at `path` (e.g. `/init/0`): its canonical dict, or `None`."""
    o = Obj.new(ctx, value, path)
    if o is None:
        return None
    before = len(ctx.problems)
    # Before `build` assigns ids, a component may have none.
    if need_id or o.has("id"):
        component_id = o.req(ctx, "id", string(64))
    else:
        o.skip("id")
        component_id = None
    if component_id is not None and COMPONENT_ID_RE.fullmatch(component_id) is None:
        ctx.add(join(path, "id"), "must be a lowercase letter then up to 63 of a-z 0-9 _")
    title = o.opt(ctx, "title", string(200))
    description = o.opt(ctx, "description", string(2000))
    required = o.opt(ctx, "required", boolean)
    kind = o.req(ctx, "type", string(64))
    if kind is None:
        return None
    cls = COMPONENT_TYPES.get(kind)
    if cls is None:
        known = ", ".join(COMPONENT_TYPES)
        ctx.add(join(path, "type"), f"unknown component type {kind!r}; known: {known}")
        return None
    props = cls.read_props(ctx, o)
    o.finish(ctx)
    if len(ctx.problems) != before or props is None:
        return None
    out: dict[str, Any] = {}
    if component_id is not None:
        out["id"] = component_id
    out["type"] = kind
    if title is not None:
        out["title"] = title
    if description is not None:
        out["description"] = description
    out["required"] = True if required is None else required
    out.update(props)
    return out
