"""The component catalogue, grouped in namespaces as the manifest names the types.

- `Text.In`, `Text.View`; `Number.In`; `Slider`; `Checkbox`
- `List.SelectOne`, `List.SelectMulti`
- `File.Upload`, `File.Download`
- `Image.Upload`, `Image.View`, `Image.WithSelectOne`, `Image.WithSelectMulti`, `Image.WithTextIn`
- `Document.View`, `Document.WithTextIn`
- `Label`; `Table.In`, `Table.View`; `Tensor.In`; `Json.View`; `Markdown.View`; `Number.View`

Inputs take a value (`validate_value` checks one); views only show their props.
"""

from __future__ import annotations

from .base import COMPONENT_TYPES, Component, read_component
from .basic import Checkbox, NumberIn, Slider, TextIn
from .choices import SelectMulti, SelectOne
from .fileref import file_ref
from .files import FileDownload, FileUpload, ImageUpload, ImageView
from .media import (
    DocumentView,
    DocumentWithTextIn,
    ImageWithSelectMulti,
    ImageWithSelectOne,
    ImageWithTextIn,
)
from .tables import TableIn, TableView
from .tensor import TensorIn
from .views import JsonView, Label, MarkdownView, NumberView, TextView


class Text:
    """Text components: `Text.In` (an input) and `Text.View`."""

    In = TextIn
    View = TextView


class Number:
    """`Number.In`: a number typed in; `Number.View`: a number shown."""

    In = NumberIn
    View = NumberView


class List:
    """Choices among items: `List.SelectOne` and `List.SelectMulti`."""

    SelectOne = SelectOne
    SelectMulti = SelectMulti


class File:
    """Files: `File.Upload` (an input) and `File.Download` (a view)."""

    Upload = FileUpload
    Download = FileDownload


class Image:
    """Images: `Image.Upload`, `Image.View` and images answered one by one
    (`Image.WithSelectOne`, `Image.WithSelectMulti`, `Image.WithTextIn`)."""

    Upload = ImageUpload
    View = ImageView
    WithSelectOne = ImageWithSelectOne
    WithSelectMulti = ImageWithSelectMulti
    WithTextIn = ImageWithTextIn


class Document:
    """Text documents: `Document.View` and `Document.WithTextIn`."""

    View = DocumentView
    WithTextIn = DocumentWithTextIn


class Table:
    """Tables: `Table.In` (rows typed in) and `Table.View`."""

    In = TableIn
    View = TableView


class Json:
    """`Json.View`: any JSON document."""

    View = JsonView


class Markdown:
    """`Markdown.View`: rendered Markdown."""

    View = MarkdownView


class Tensor:
    """`Tensor.In`: an array of a given shape and element type."""

    In = TensorIn


__all__ = [
    "COMPONENT_TYPES",
    "Checkbox",
    "Component",
    "Document",
    "File",
    "Image",
    "Json",
    "Label",
    "List",
    "Markdown",
    "Number",
    "Slider",
    "Table",
    "Tensor",
    "Text",
    "file_ref",
    "read_component",
]
