"""Components built around a list of images or documents, each answered by the person."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._checks import Ctx, Obj, join, list_of, nonempty, string, uint, unique
from .base import Component, file_refs, register
from .basic import MAX_CHARS
from .choices import check_choice, check_choices
from .files import MAX_ITEMS, FileLike, read_images, read_per_item

DOC_CHARS = 10_000_000


def _read_lists(ctx: Ctx, o: Obj, n: int | None) -> list[list[str]] | None:
    """`lists`: one non-empty list of unique strings per image."""

    def one(ctx: Ctx, value: Any, path: str) -> list[str] | None:
        items = list_of(1, 1000, nonempty(1000))(ctx, value, path)
        if items is None:
            return None
        return items if unique(ctx, path, items, "item") else None

    lo, hi = (n, n) if n is not None else (1, MAX_ITEMS)
    return o.req(ctx, "lists", list_of(lo, hi, one))  # type: ignore[no-any-return]


def _per_image(
    ctx: Ctx, value: Any, path: str, n: int, check: Callable[[Ctx, int, Any, str], None]
) -> None:
    """An array with one entry per image, entry `i` checked by `check(ctx, i, entry, path)`."""
    if not isinstance(value, list) or len(value) != n:
        list_of(n, n, lambda *_: True)(ctx, value, path)
        return
    for i, entry in enumerate(value):
        check(ctx, i, entry, join(path, i))


def _texts(ctx: Ctx, n: int, max_chars: int, value: Any, path: str) -> None:
    list_of(n, n, string(max_chars))(ctx, value, path)


def _max_chars(ctx: Ctx, o: Obj) -> int:
    max_chars = o.opt(ctx, "max_chars", uint(1, MAX_CHARS))
    return 10_000 if max_chars is None else int(max_chars)


def _with(props: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    if value is not None:
        props[key] = value
    return props


class _Media(Component):
    """Keyword conversion shared by the media components: paths name bundle files."""

    def __init__(self, **kwargs: Any) -> None:
        if "images" in kwargs:
            kwargs["images"] = file_refs(kwargs["images"])
        super().__init__(**kwargs)


@register
class ImageWithSelectOne(_Media):
    """Images, each with one choice from its own list (confirm or correct a label); the value
    has one string per image.

    >>> pets = ftr.Image.WithSelectOne(images=["a.png", "b.png"], lists=[["cat", "dog"]] * 2)
    >>> [p.path for p in pets.validate_value(["cat", "cow"])]
    ['/1']
    """

    type = "Image.WithSelectOne"
    is_input = True

    def __init__(
        self,
        *,
        images: Sequence[FileLike],
        lists: Sequence[Sequence[str]],
        captions: Sequence[str] | None = None,
        default: Sequence[str] | None = None,
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
            images=images,
            lists=lists,
            captions=captions,
            default=default,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        images = read_images(ctx, o)
        n = None if images is None else len(images)
        lists = _read_lists(ctx, o, n)
        captions = read_per_item(ctx, o, "captions", n, 1000)
        default = read_per_item(ctx, o, "default", n, 1000)
        if images is None or lists is None:
            return None
        props = _with({"images": images, "lists": lists}, "captions", captions)
        if default is not None:
            props["default"] = default
            cls._check(lists, ctx, default, join(o.path, "default"))
        return props

    @staticmethod
    def _check(lists: list[list[str]], ctx: Ctx, value: Any, path: str) -> None:
        _per_image(ctx, value, path, len(lists), lambda c, i, x, p: check_choice(c, lists[i], x, p))

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        self._check(self.props["lists"], ctx, value, path)


@register
class ImageWithSelectMulti(_Media):
    """Images, each with any number of distinct choices from its own list; the value has one
    array of strings per image.

    >>> tags = ftr.Image.WithSelectMulti(images=["a.png"], lists=[["cat", "dog", "car"]])
    >>> tags.validate_value([["cat", "car"]])
    []
    """

    type = "Image.WithSelectMulti"
    is_input = True

    def __init__(
        self,
        *,
        images: Sequence[FileLike],
        lists: Sequence[Sequence[str]],
        captions: Sequence[str] | None = None,
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
            images=images,
            lists=lists,
            captions=captions,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        images = read_images(ctx, o)
        n = None if images is None else len(images)
        lists = _read_lists(ctx, o, n)
        captions = read_per_item(ctx, o, "captions", n, 1000)
        if images is None or lists is None:
            return None
        return _with({"images": images, "lists": lists}, "captions", captions)

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        lists = self.props["lists"]
        _per_image(
            ctx,
            value,
            path,
            len(lists),
            lambda c, i, x, p: check_choices(c, lists[i], 0, len(lists[i]), x, p),
        )


@register
class ImageWithTextIn(_Media):
    """Images, each with a text to write (a caption, a transcription); the value has one string
    per image.

    >>> scans = ftr.Image.WithTextIn(images=["scan.png"], default_text=["draft"])
    """

    type = "Image.WithTextIn"
    is_input = True

    def __init__(
        self,
        *,
        images: Sequence[FileLike],
        captions: Sequence[str] | None = None,
        default_text: Sequence[str] | None = None,
        max_chars: int = 10_000,
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
            images=images,
            captions=captions,
            default_text=default_text,
            max_chars=max_chars,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        images = read_images(ctx, o)
        n = None if images is None else len(images)
        captions = read_per_item(ctx, o, "captions", n, 1000)
        max_chars = _max_chars(ctx, o)
        default_text = read_per_item(ctx, o, "default_text", n, max_chars)
        if images is None:
            return None
        props = _with({"images": images}, "captions", captions)
        return {**_with(props, "default_text", default_text), "max_chars": max_chars}

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        _texts(ctx, len(self.props["images"]), self.props["max_chars"], value, path)


def _read_documents(ctx: Ctx, o: Obj) -> list[str] | None:
    return o.req(ctx, "documents", list_of(1, MAX_ITEMS, string(DOC_CHARS)))  # type: ignore[no-any-return]


@register
class DocumentWithTextIn(Component):
    """Documents, each with a text to write (a summary, a correction); the value has one string
    per document.

    >>> summaries = ftr.Document.WithTextIn(documents=["Once upon a time..."], titles=["Story"])
    """

    type = "Document.WithTextIn"
    is_input = True

    def __init__(
        self,
        *,
        documents: Sequence[str],
        titles: Sequence[str] | None = None,
        default_text: Sequence[str] | None = None,
        max_chars: int = 10_000,
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
            documents=documents,
            titles=titles,
            default_text=default_text,
            max_chars=max_chars,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        documents = _read_documents(ctx, o)
        n = None if documents is None else len(documents)
        titles = read_per_item(ctx, o, "titles", n, 1000)
        max_chars = _max_chars(ctx, o)
        default_text = read_per_item(ctx, o, "default_text", n, max_chars)
        if documents is None:
            return None
        props = _with({"documents": documents}, "titles", titles)
        return {**_with(props, "default_text", default_text), "max_chars": max_chars}

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        _texts(ctx, len(self.props["documents"]), self.props["max_chars"], value, path)


@register
class DocumentView(Component):
    """One or more text documents with optional titles (one per document).

    >>> summary = ftr.Document.View(documents=["A summary."], titles=["Summary"])
    """

    type = "Document.View"

    def __init__(
        self,
        *,
        documents: Sequence[str],
        titles: Sequence[str] | None = None,
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
            documents=documents,
            titles=titles,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        documents = _read_documents(ctx, o)
        titles = read_per_item(
            ctx, o, "titles", None if documents is None else len(documents), 1000
        )
        if documents is None:
            return None
        return _with({"documents": documents}, "titles", titles)
