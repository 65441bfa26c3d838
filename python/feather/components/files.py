"""Components of files and images: uploads, downloads and an image gallery."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from .._checks import Ctx, Obj, join, list_of, string, uint
from ..files import LocalFile
from .base import Component, file_refs, register
from .fileref import check_file, read_file_refs, read_prop_file, read_types

DEFAULT_MAX_SIZE = 10 << 20
"""Default upload size cap: 10 MiB."""
MAX_UPLOAD = 1 << 30
MAX_ITEMS = 256
"""The most images or documents one component holds."""

FileLike = str | os.PathLike[str] | dict[str, Any] | bytes | LocalFile | Any
"""A file given to a component: a relative path inside the bundle or a `FileRef` dict; in a
step's outputs also a file made at run time: an absolute path, `bytes`, a PIL image, an
`UploadedFile` or a `LocalFile` (see `feather.files`)."""


def read_images(ctx: Ctx, o: Obj) -> list[dict[str, Any]] | None:
    return o.req(ctx, "images", read_file_refs(1, MAX_ITEMS))  # type: ignore[no-any-return]


def read_per_item(ctx: Ctx, o: Obj, key: str, n: int | None, max_chars: int) -> list[str] | None:
    """An optional array with one string per image or document (`n` of them, when known)."""
    got = o.get(key)
    if got is None:
        return None
    lo, hi = (n, n) if n is not None else (0, MAX_ITEMS)
    return list_of(lo, hi, string(max_chars))(ctx, *got)  # type: ignore[no-any-return]


@register
class FileUpload(Component):
    """One or more files; the value is an array of `FileRef`s.

    `types` filters by extension (`.csv`) or MIME type (`image/png`, `image/*`); `[]` takes any.

    >>> photos = ftr.File.Upload(types=[".png", ".jpg"], min_files=1, max_files=3)
    >>> [p.path for p in photos.validate_value([{"id": "f1", "name": "notes.txt"}])]
    ['/0']
    """

    type = "File.Upload"
    is_input = True

    def __init__(
        self,
        *,
        types: Sequence[str] = (),
        min_files: int = 1,
        max_files: int = 1,
        max_size: int = DEFAULT_MAX_SIZE,
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
            types=types,
            min_files=min_files,
            max_files=max_files,
            max_size=max_size,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        types = read_types(ctx, o, [])
        min_files = o.opt(ctx, "min_files", uint(0, 1000))
        max_files = o.opt(ctx, "max_files", uint(1, 1000))
        max_size = o.opt(ctx, "max_size", uint(1, MAX_UPLOAD))
        min_files = 1 if min_files is None else min_files
        max_files = 1 if max_files is None else max_files
        if max_files < min_files:
            ctx.add(join(o.path, "max_files"), f"must be at least min_files ({min_files})")
        return {
            "types": types,
            "min_files": min_files,
            "max_files": max_files,
            "max_size": DEFAULT_MAX_SIZE if max_size is None else max_size,
        }

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        types, max_size = self.props["types"], self.props["max_size"]

        def one(ctx: Ctx, x: Any, p: str) -> bool:
            check_file(ctx, types, max_size, x, p)
            return True

        list_of(self.props["min_files"], self.props["max_files"], one)(ctx, value, path)


@register
class ImageUpload(Component):
    """One image file; the value is a `FileRef`.

    >>> digit = ftr.Image.Upload(title="A digit", types=["image/png"])
    >>> digit.validate_value({"data": "data:image/png;base64,iVBORw0KGgo="})
    []
    """

    type = "Image.Upload"
    is_input = True

    def __init__(
        self,
        *,
        types: Sequence[str] = ("image/*",),
        max_size: int = DEFAULT_MAX_SIZE,
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
            types=types,
            max_size=max_size,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        types = read_types(ctx, o, ["image/*"])
        max_size = o.opt(ctx, "max_size", uint(1, MAX_UPLOAD))
        return {"types": types, "max_size": DEFAULT_MAX_SIZE if max_size is None else max_size}

    def check(self, ctx: Ctx, value: Any, path: str) -> None:
        check_file(ctx, self.props["types"], self.props["max_size"], value, path)


@register
class FileDownload(Component):
    """Files offered for download; each needs a `name`.

    >>> report = ftr.File.Download(files=[ftr.file_ref("out/report.pdf", name="report.pdf")])
    """

    type = "File.Download"

    def __init__(
        self,
        *,
        files: Sequence[FileLike],
        id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        required: bool = True,
    ) -> None:
        super().__init__(
            id=id, title=title, description=description, required=required, files=file_refs(files)
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        def one(ctx: Ctx, value: Any, path: str) -> dict[str, Any] | LocalFile | None:
            ref = read_prop_file(ctx, value, path)
            # A run-time file is named when it is sent: after its path, or `file-N.bin`.
            if isinstance(ref, dict) and ref.get("name") is None:
                ctx.add(join(path, "name"), "is required for a download")
            return ref

        files = o.req(ctx, "files", list_of(1, 1000, one))
        return None if files is None else {"files": files}


@register
class ImageView(Component):
    """One or more images with optional captions (one per image).

    >>> ftr.Image.View(images=["examples/cat.png"], captions=["a cat"]).images
    [{'path': 'examples/cat.png'}]
    """

    type = "Image.View"

    def __init__(
        self,
        *,
        images: Sequence[FileLike],
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
            images=file_refs(images),
            captions=captions,
        )

    @classmethod
    def read_props(cls, ctx: Ctx, o: Obj) -> dict[str, Any] | None:
        images = read_images(ctx, o)
        captions = read_per_item(ctx, o, "captions", None if images is None else len(images), 1000)
        if images is None:
            return None
        return {"images": images, **({} if captions is None else {"captions": captions})}
