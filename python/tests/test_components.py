"""Each component's exact canonical JSON, its checks at construction, and loading it back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import feather as ftr
from feather.components import COMPONENT_TYPES, Component

MIB10 = 10 * 1024 * 1024
IMG = {"path": "examples/a.png"}

# (component, its canonical JSON): every prop with its default, optional ones left out.
CASES: list[tuple[Component, dict[str, Any]]] = [
    (
        ftr.Text.In(id="q"),
        {
            "id": "q",
            "type": "Text.In",
            "required": True,
            "default_text": "",
            "num_inputs": 1,
            "max_chars": 10000,
            "placeholder": "",
            "multiline": False,
        },
    ),
    (
        ftr.Text.In(default_text="hi", num_inputs=2, max_chars=1000, id="q", title="Q"),
        {
            "id": "q",
            "type": "Text.In",
            "title": "Q",
            "required": True,
            "default_text": "hi",
            "num_inputs": 2,
            "max_chars": 1000,
            "placeholder": "",
            "multiline": False,
        },
    ),
    (
        ftr.Text.View("hello", id="t", description="d"),
        {"id": "t", "type": "Text.View", "description": "d", "required": True, "text": "hello"},
    ),
    (
        ftr.Number.In(id="n"),
        {"id": "n", "type": "Number.In", "required": True, "integer": False},
    ),
    (
        ftr.Number.In(id="n", min=0, max=10.5, step=0.5, default=1, integer=False),
        {
            "id": "n",
            "type": "Number.In",
            "required": True,
            "min": 0,
            "max": 10.5,
            "step": 0.5,
            "default": 1,
            "integer": False,
        },
    ),
    (
        ftr.Slider(id="s", min=0, max=10),
        {"id": "s", "type": "Slider", "required": True, "min": 0, "max": 10, "step": 1},
    ),
    (
        ftr.Checkbox(id="c", required=False),
        {"id": "c", "type": "Checkbox", "required": False, "default": False},
    ),
    (
        ftr.List.SelectOne(id="l", items=["a", "b"]),
        {
            "id": "l",
            "type": "List.SelectOne",
            "required": True,
            "items": ["a", "b"],
            "style": "radio",
        },
    ),
    (
        ftr.List.SelectMulti(id="m", items=["a", "b"], max_selected=1),
        {
            "id": "m",
            "type": "List.SelectMulti",
            "required": True,
            "items": ["a", "b"],
            "style": "checkbox",
            "min_selected": 0,
            "max_selected": 1,
            "default": [],
        },
    ),
    (
        ftr.File.Upload(id="f", types=[".PNG", "image/*"], min_files=1, max_files=3),
        {
            "id": "f",
            "type": "File.Upload",
            "required": True,
            "types": [".png", "image/*"],
            "min_files": 1,
            "max_files": 3,
            "max_size": MIB10,
        },
    ),
    (
        ftr.File.Download(id="d", files=[{"name": "r.pdf", "path": "out/r.pdf"}]),
        {
            "id": "d",
            "type": "File.Download",
            "required": True,
            "files": [{"path": "out/r.pdf", "name": "r.pdf"}],
        },
    ),
    (
        ftr.Image.Upload(id="i"),
        {
            "id": "i",
            "type": "Image.Upload",
            "required": True,
            "types": ["image/*"],
            "max_size": MIB10,
        },
    ),
    (
        ftr.Image.View(id="v", images=["examples/a.png"], captions=["A"]),
        {"id": "v", "type": "Image.View", "required": True, "images": [IMG], "captions": ["A"]},
    ),
    (
        ftr.Image.WithSelectOne(id="w", images=[IMG], lists=[["x", "y"]], default=["y"]),
        {
            "id": "w",
            "type": "Image.WithSelectOne",
            "required": True,
            "images": [IMG],
            "lists": [["x", "y"]],
            "default": ["y"],
        },
    ),
    (
        ftr.Image.WithSelectMulti(id="w", images=[IMG], lists=[["x", "y"]]),
        {
            "id": "w",
            "type": "Image.WithSelectMulti",
            "required": True,
            "images": [IMG],
            "lists": [["x", "y"]],
        },
    ),
    (
        ftr.Image.WithTextIn(id="w", images=[IMG], captions=["c"]),
        {
            "id": "w",
            "type": "Image.WithTextIn",
            "required": True,
            "images": [IMG],
            "captions": ["c"],
            "max_chars": 10000,
        },
    ),
    (
        ftr.Document.View(id="d", documents=["text"]),
        {"id": "d", "type": "Document.View", "required": True, "documents": ["text"]},
    ),
    (
        ftr.Document.WithTextIn(id="d", documents=["a", "b"], default_text=["", "x"]),
        {
            "id": "d",
            "type": "Document.WithTextIn",
            "required": True,
            "documents": ["a", "b"],
            "default_text": ["", "x"],
            "max_chars": 10000,
        },
    ),
    (
        ftr.Label({"cat": 0.75, "dog": 0.25}, id="p"),
        {"id": "p", "type": "Label", "required": True, "confidences": {"cat": 0.75, "dog": 0.25}},
    ),
    (
        ftr.Table.In(id="t", columns=["city", ("people", "integer")]),
        {
            "id": "t",
            "type": "Table.In",
            "required": True,
            "columns": [{"name": "city", "type": "string"}, {"name": "people", "type": "integer"}],
            "min_rows": 1,
            "max_rows": 1000,
        },
    ),
    (
        ftr.Table.View(id="t", columns=["a"], rows=[[1], [None]]),
        {
            "id": "t",
            "type": "Table.View",
            "required": True,
            "columns": ["a"],
            "rows": [[1], [None]],
        },
    ),
    (
        ftr.Tensor.In(shape=[3, -1], id="x", default=[[0.5], [1], [2]]),
        {
            "id": "x",
            "type": "Tensor.In",
            "required": True,
            "dtype": "float32",
            "shape": [3, -1],
            "default": [[0.5], [1], [2]],
        },
    ),
    (
        ftr.Json.View({"a": [1, 2]}, id="j"),
        {"id": "j", "type": "Json.View", "required": True, "data": {"a": [1, 2]}},
    ),
    (
        ftr.Markdown.View("**b**", id="m"),
        {"id": "m", "type": "Markdown.View", "required": True, "text": "**b**"},
    ),
    (
        ftr.Number.View(151.25, id="n", unit="mmHg", decimals=1),
        {
            "id": "n",
            "type": "Number.View",
            "required": True,
            "value": 151.25,
            "unit": "mmHg",
            "decimals": 1,
        },
    ),
]


def test_cases_cover_the_catalogue() -> None:
    assert len(COMPONENT_TYPES) == 23
    assert {c.type for c, _ in CASES} == set(COMPONENT_TYPES)


@pytest.mark.parametrize(("component", "expected"), CASES, ids=[c.type for c, _ in CASES])
def test_canonical_dict(component: Component, expected: dict[str, Any]) -> None:
    got = component.to_dict()
    assert got == expected
    assert list(got) == list(expected), "keys in canonical order"
    again = Component.from_dict(got)
    assert type(again) is type(component)
    assert again.to_dict() == expected
    assert type(component).from_dict(got) == component


def test_namespaces_name_the_types() -> None:
    assert ftr.Text.In.type == "Text.In"
    assert ftr.List.SelectMulti.type == "List.SelectMulti"
    assert ftr.Image.WithSelectMulti.type == "Image.WithSelectMulti"
    assert ftr.Slider.is_input and not ftr.Label.is_input


def test_props_read_as_attributes() -> None:
    upload = ftr.File.Upload(types=[".csv"], max_files=3)
    assert upload.max_files == 3
    assert upload.max_size == MIB10
    with pytest.raises(AttributeError):
        _ = upload.max_chars


def test_invalid_props_raise_with_every_problem() -> None:
    with pytest.raises(ftr.ManifestError) as err:
        ftr.File.Upload(types=["png"], min_files=3, max_files=2, max_size=0)
    paths = {p.path for p in err.value.problems}
    assert paths == {"/types/0", "/max_files", "/max_size"}
    assert "/max_files" in str(err.value)


@pytest.mark.parametrize(
    ("make", "paths"),
    [
        (lambda: ftr.Slider(min=5, max=5), {"/max"}),
        (lambda: ftr.Slider(min=0, max=1, default=2), {"/default"}),
        (lambda: ftr.Text.In(num_inputs=0), {"/num_inputs"}),
        (lambda: ftr.Text.In(default_text="abc", max_chars=2), {"/default_text"}),
        (lambda: ftr.List.SelectOne(items=["a", "a"]), {"/items/1"}),
        (lambda: ftr.List.SelectOne(items=["a"], style="grid"), {"/style"}),
        (lambda: ftr.List.SelectMulti(items=["a"], default=["b"]), {"/default/0"}),
        (lambda: ftr.Image.WithSelectOne(images=[IMG], lists=[["a"], ["b"]]), {"/lists"}),
        (lambda: ftr.Label({"a": 1.5}), {"/confidences/a"}),
        (lambda: ftr.Table.In(columns=[("a", "date")]), {"/columns/0/type"}),
        (lambda: ftr.File.Download(files=["out.txt"]), {"/files/0/name"}),
        (lambda: ftr.Text.In(id="Bad Id"), {"/id"}),
        (lambda: ftr.Text.View("x", title="t" * 201), {"/title"}),
        (lambda: ftr.Json.View(), {"/data"}),
        (lambda: ftr.Number.View("high", decimals=13), {"/value", "/decimals"}),
    ],
)
def test_construction_problems(make: Any, paths: set[str]) -> None:
    with pytest.raises(ftr.ManifestError) as err:
        make()
    assert {p.path for p in err.value.problems} == paths


def test_from_dict_reports_unknown_fields_and_types() -> None:
    with pytest.raises(ftr.ManifestError) as err:
        Component.from_dict({"id": "a", "type": "Text.In", "max_char": 5})
    assert [p.path for p in err.value.problems] == ["/max_char"]
    with pytest.raises(ftr.ManifestError) as err:
        Component.from_dict({"id": "a", "type": "Text.Input"})
    assert [p.path for p in err.value.problems] == ["/type"]
    with pytest.raises(ftr.ManifestError):
        ftr.Checkbox.from_dict({"id": "a", "type": "Slider", "min": 0, "max": 1})


def test_with_id_copies() -> None:
    box = ftr.Checkbox(title="Agree")
    named = box.with_id("agree")
    assert box.id is None and named.id == "agree"
    assert named.to_dict()["title"] == "Agree"


def test_values_of_inputs() -> None:
    text = ftr.Text.In(max_chars=3, num_inputs=2)
    assert text.validate_value(["abc", ""]) == []
    assert [p.path for p in text.validate_value(["abcd", 1])] == ["/0", "/1"]
    assert [p.path for p in text.validate_value("abc")] == [""]
    assert [p.path for p in text.validate_value(None)] == [""]
    assert ftr.Text.In(required=False).validate_value(None) == []
    table = ftr.Table.In(columns=[("n", "integer"), ("ok", "boolean")], max_rows=2)
    assert table.validate_value([[1, True], [2, False]]) == []
    assert [p.path for p in table.validate_value([[1.5, 1], [1]])] == ["/0/0", "/0/1", "/1"]


def test_views_take_no_value() -> None:
    view = ftr.Markdown.View("x")
    assert view.validate_value(None) == []
    assert [p.path for p in view.validate_value("x")] == [""]


def test_file_types_match_name_type_or_data_url() -> None:
    upload = ftr.File.Upload(types=[".csv", "image/*"], max_files=5, max_size=10)
    ok = [
        {"id": "a", "name": "x.CSV"},
        {"data": "data:image/png;base64,AA=="},
        {"id": "b", "type": "image/jpeg"},
        {"id": "c"},
    ]
    assert upload.validate_value(ok) == []
    bad = [{"id": "a", "name": "x.txt"}, {"id": "b", "size": 11}, {"id": "c", "type": "text/csv"}]
    assert [p.path for p in upload.validate_value(bad)] == ["/0", "/1/size", "/2"]


def test_file_ref_helper() -> None:
    ref = ftr.file_ref("out/a.txt", name="a.txt", size=3)
    assert ref == {"path": "out/a.txt", "name": "a.txt", "size": 3}
    assert ftr.File.Download(files=[ref]).files == [ref]


# Constructor arguments of the views steps return most, valid and not: the quick path
# (`quick_props`) and the reader must agree on each, in what they accept and what they give.
QUICK_CASES: list[tuple[type[Component], dict[str, Any]]] = [
    (ftr.Text.View, {"text": "hello", "id": "echo"}),
    (ftr.Text.View, {"text": "", "title": "t" * 200, "description": "d" * 2000}),
    (ftr.Text.View, {"text": "x", "title": "t" * 201}),
    (ftr.Text.View, {"text": "x", "description": "d" * 2001}),
    (ftr.Text.View, {"text": "x", "id": "Bad"}),
    (ftr.Text.View, {"text": "x", "id": "a" * 65}),
    (ftr.Text.View, {"text": "x", "required": 1}),
    (ftr.Text.View, {"text": 3}),
    (ftr.Text.View, {"text": None}),
    (ftr.Markdown.View, {"text": "**bold**", "required": False}),
    (ftr.Label, {"confidences": {"cat": 0.9, "dog": 0.1}}),
    (ftr.Label, {"confidences": {}, "label": "none", "num_top_classes": 1000}),
    (ftr.Label, {"confidences": {"cat": 1, "dog": 0}, "label": "cat"}),
    (ftr.Label, {"confidences": {"cat": 1.5}}),
    (ftr.Label, {"confidences": {"cat": -0.1}}),
    (ftr.Label, {"confidences": {"cat": float("nan")}}),
    (ftr.Label, {"confidences": {"cat": True}}),
    (ftr.Label, {"confidences": {"cat": "0.5"}}),
    (ftr.Label, {"confidences": {1: 0.5}}),
    (ftr.Label, {"confidences": {np.str_("setosa"): np.float64(0.25), "virginica": 0.75}}),
    (ftr.Label, {"confidences": [("cat", 0.5)]}),
    (ftr.Label, {"confidences": {"cat": 0.5}, "num_top_classes": 0}),
    (ftr.Label, {"confidences": {"cat": 0.5}, "num_top_classes": 1001}),
    (ftr.Label, {"confidences": {"cat": 0.5}, "num_top_classes": 2.0}),
    (ftr.Label, {"confidences": {"cat": 0.5}, "num_top_classes": True}),
    (ftr.Label, {"confidences": {"cat": 0.5}, "label": "l" * 1001}),
    (ftr.Label, {"confidences": {"cat": 0.5}, "label": 7}),
    (ftr.Label, {"confidences": None}),
]


def _read(cls: type[Component], kwargs: dict[str, Any]) -> dict[str, Any] | list[str]:
    """The reader's verdict on what the constructor would be given: canonical JSON or problems."""
    data: dict[str, Any] = {"type": cls.type, "required": kwargs.get("required", True)}
    data.update({k: v for k, v in kwargs.items() if v is not None and k != "required"})
    from feather.components.base import to_json

    data = {k: to_json(v) for k, v in data.items()}
    try:
        return Component.from_dict(data).to_dict()
    except ftr.ManifestError as err:
        return [f"{p.path}: {p.reason}" for p in err.problems]


@pytest.mark.parametrize(("cls", "kwargs"), QUICK_CASES)
def test_a_view_built_by_its_constructor_is_what_the_reader_makes_of_it(
    cls: type[Component], kwargs: dict[str, Any]
) -> None:
    want = _read(cls, kwargs)
    try:
        got: dict[str, Any] | list[str] = cls(**kwargs).to_dict()
    except ftr.ManifestError as err:
        got = [f"{p.path}: {p.reason}" for p in err.problems]
    assert got == want


def test_the_quick_path_copies_what_it_is_given() -> None:
    scores = {"cat": 0.9, "dog": 0.1}
    label = ftr.Label(scores)
    scores["cat"] = 2.0
    assert label.confidences == {"cat": 0.9, "dog": 0.1}
