"""Values into steps and return values out of them, without a process or a socket."""

from __future__ import annotations

import inspect
import os
import pickle
import socket
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import feather as ftr
from feather import registry
from feather.components import COMPONENT_TYPES, Component
from feather.worker.app import App, LoadError, RequestError, _the_model
from feather.worker.messages import Run, one_line
from feather.worker.outputs import FILE_PROPS, encode_return, split_return
from feather.worker.protocol import encode, read_frame
from feather.worker.serve import answer, serve
from feather.worker.values import Scratch, step_arguments, to_python

INPUTS = [
    ftr.Text.In(id="text"),
    ftr.Text.In(id="pair", num_inputs=2),
    ftr.Number.In(id="count", integer=True),
    ftr.Number.In(id="ratio"),
    ftr.Slider(id="level", min=0, max=10),
    ftr.Checkbox(id="ok"),
    ftr.List.SelectOne(id="one", items=["a", "b"]),
    ftr.List.SelectMulti(id="many", items=["a", "b"]),
    ftr.Image.WithSelectOne(id="tags", images=["a.png"], lists=[["x", "y"]]),
    ftr.Image.WithSelectMulti(id="sets", images=["a.png"], lists=[["x", "y"]]),
    ftr.Image.WithTextIn(id="notes", images=["a.png"]),
    ftr.Document.WithTextIn(id="answers", documents=["q"]),
    ftr.Table.In(id="rows", columns=[("n", "integer"), ("s", "string")]),
    ftr.Text.In(id="maybe", required=False),
    ftr.Markdown.View("shown only", id="help"),
]


def test_values_reach_python_as_the_protocol_says(tmp_path: Path) -> None:
    inputs = {
        "text": "hi",
        "pair": ["a", "b"],
        "count": 3.0,
        "ratio": 2,
        "level": 7,
        "ok": True,
        "one": "b",
        "many": ["a"],
        "tags": ["y"],
        "sets": [["x", "y"]],
        "notes": ["n"],
        "answers": ["yes"],
        "rows": [[1, "x"]],
    }
    with Scratch(str(tmp_path)) as scratch:
        got = step_arguments(INPUTS, inputs, [], scratch)
    assert got == {**inputs, "maybe": None}
    assert "help" not in got
    for key, kind in (("count", int), ("ratio", float), ("level", float)):
        assert type(got[key]) is kind


def test_a_tensor_reaches_python_as_an_array_of_its_dtype(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    np = pytest.importorskip("numpy")
    pixels = ftr.Tensor.In(id="pixels", dtype="uint8", shape=[2, -1])
    words = ftr.Tensor.In(id="words", dtype="string", shape=[-1])
    with Scratch() as scratch:
        got = to_python(pixels, [[1, 2], [3, 255]], [], scratch)
        assert got.dtype == np.uint8 and got.shape == (2, 2) and got[1, 1] == 255
        assert to_python(words, ["a", "bc"], [], scratch).tolist() == ["a", "bc"]
        # An environment without numpy gets the nested lists.
        monkeypatch.setitem(sys.modules, "numpy", None)
        assert to_python(pixels, [[1, 2], [3, 4]], [], scratch) == [[1, 2], [3, 4]]


def test_uploads_become_files_in_the_scratch_folder(tmp_path: Path) -> None:
    files = ftr.File.Upload(id="files", max_files=3)
    image = ftr.Image.Upload(id="image")
    value = [
        {"part": 0, "name": "a.txt"},
        {"part": 0, "name": "../a.txt", "type": "text/x-mine"},
        {"part": 1, "type": "image/png"},
    ]
    parts = [b"same", memoryview(b"\x89PNG")]
    with Scratch(str(tmp_path / "scratch")) as scratch:
        uploads = to_python(files, value, parts, scratch)
        single = to_python(image, {"part": 1, "name": "x" * 250 + ".png"}, parts, scratch)
        assert [(u.name, u.type) for u in uploads] == [
            ("a.txt", "text/plain"),
            ("a.txt", "text/x-mine"),
            ("file-1.png", "image/png"),
        ]
        assert [u.read() for u in uploads] == [b"same", b"same", b"\x89PNG"]
        assert len({u.path for u in uploads}) == 3
        assert single.name.endswith(".png") and len(single.name) == 254
        assert Path(single.path).name == "file-1.png"
        with open(single, "rb") as f:  # an UploadedFile is path-like
            assert f.read() == b"\x89PNG"
    assert list((tmp_path / "scratch").iterdir()) == []


@pytest.mark.parametrize(
    ("component", "value"),
    [
        (ftr.Image.Upload(id="i"), {"part": 3}),
        (ftr.Image.Upload(id="i"), {"id": "stored"}),
        (ftr.File.Upload(id="f"), {"part": 0}),
        (ftr.Number.In(id="n"), "7"),
        (ftr.Slider(id="s", min=0, max=1), True),
    ],
)
def test_malformed_values_are_request_errors(component: Component, value: Any) -> None:
    with Scratch() as scratch, pytest.raises(RequestError):
        to_python(component, value, [b"x"], scratch)


def test_values_for_no_input_component_are_refused() -> None:
    with Scratch() as scratch:
        assert step_arguments(INPUTS[:1], {"text": "a", "other": None}, [], scratch) == {
            "text": "a"
        }
        with pytest.raises(RequestError, match="'help'"):
            step_arguments(INPUTS, {"help": "x"}, [], scratch)


def test_a_return_value_splits_into_components_and_state() -> None:
    view = ftr.Text.View("x")
    assert split_return(view) == ([view], [])
    assert split_return(None) == ([], [])
    assert split_return({"a": 1}) == ([], [{"a": 1}])
    assert split_return([view, 1, view, "s"]) == ([view, view], [1, "s"])
    assert encode_return((view, 1), since=0).state == 0
    one = encode_return((view, {"k": 1}), since=0)
    assert pickle.loads(one.parts[one.state]) == {"k": 1}
    several = encode_return((1, view, None), since=0)
    assert pickle.loads(several.parts[several.state]) == (1, None)
    assert encode_return((view, None), since=0).state is None
    assert encode_return(view, since=0).parts == []


def test_output_ids_come_from_titles_or_positions() -> None:
    out = encode_return(
        [
            ftr.Text.View("a", title="The answer"),
            ftr.Text.View("b", id="output_2"),
            ftr.Text.View("c", title="The answer"),
            ftr.Text.View("d"),
        ],
        since=0,
    )
    assert [o["id"] for o in out.outputs] == ["the_answer", "output_2", "output_3", "output_4"]
    with pytest.raises(RequestError, match="'x'"):
        encode_return([ftr.Text.View("a", id="x"), ftr.Text.View("b", id="x")], since=0)


def test_an_unpicklable_state_is_a_request_error() -> None:
    with pytest.raises(RequestError, match="cannot be pickled"):
        encode_return((ftr.Text.View("x"), lambda: 1), since=0)


def test_outputs_are_sent_as_they_are_and_ids_do_not_touch_the_step_s_components() -> None:
    # A component spoilt after it was made goes out as it is: the server checks every output.
    label = ftr.Label({"a": 0.5})
    label.props["confidences"] = {"a": 2}
    view = ftr.Text.View("x", title="Total")
    out = encode_return([label, view], since=0)
    assert out.outputs[0]["confidences"] == {"a": 2}
    assert [o["id"] for o in out.outputs] == ["output_1", "total"]
    assert label.id is None and view.id is None


class _FakeImage:
    """Stands in for a PIL image: the worker only calls `save(fp, format="PNG")`."""

    size = (2, 1)

    def save(self, fp: Any, format: str) -> None:
        fp.write(b"PNG:" + format.encode())


def test_files_made_at_run_time_become_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pil = types.ModuleType("PIL.Image")
    pil.Image = _FakeImage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "PIL.Image", pil)
    monkeypatch.chdir(tmp_path)
    written = tmp_path / "report.csv"
    written.write_text("a,b\n")
    Path("old.txt").write_text("old")
    os.utime("old.txt", (0, 0))
    Path("new.txt").write_text("new")
    upload = ftr.UploadedFile("cat.jpg", "image/jpeg", str(written))
    view = ftr.Image.View(images=[_FakeImage(), upload, b"\x01", {"id": "stored1"}], id="v")
    download = ftr.File.Download(
        files=[str(written), ftr.file_ref("old.txt", name="o"), ftr.file_ref("new.txt", name="n")]
    )
    out = encode_return([view, download], since=100)
    images, files = out.outputs[0]["images"], out.outputs[1]["files"]
    assert images == [
        {"part": 0, "name": "image-0.png", "type": "image/png"},
        {"part": 1, "name": "cat.jpg", "type": "image/jpeg"},
        {"part": 2, "name": "file-2.bin", "type": "application/octet-stream"},
        {"id": "stored1"},
    ]
    assert files == [
        {"part": 3, "name": "report.csv", "type": "text/csv"},
        {"path": "old.txt", "name": "o"},
        {"part": 4, "name": "n", "type": "text/plain"},
    ]
    assert out.parts == [b"PNG:PNG", b"a,b\n", b"\x01", b"a,b\n", b"new"]


def test_every_component_that_holds_files_is_known() -> None:
    holding = {
        kind: key
        for kind, cls in COMPONENT_TYPES.items()
        for key in ("images", "files")
        if key in inspect.signature(cls.__init__).parameters
    }
    assert holding == FILE_PROPS


def test_a_missing_run_time_file_is_a_request_error(tmp_path: Path) -> None:
    view = ftr.Image.View(images=[str(tmp_path / "gone.png")])
    with pytest.raises(RequestError, match=r"gone\.png"):
        encode_return(view, since=0)


def test_local_files_stay_out_of_manifests(tmp_path: Path) -> None:
    view = ftr.Image.View(images=[b"\x89PNG", tmp_path / "a.png", "rel.png"])
    assert view.images[2] == {"path": "rel.png"}
    assert [type(x).__name__ for x in view.images[:2]] == ["LocalFile", "LocalFile"]
    assert ftr.File.Download(files=[b"x"]).to_dict()["files"] == [ftr.LocalFile(b"x")]
    assert "<1 bytes>" in repr(ftr.LocalFile(b"x"))
    assert ftr.file_ref(data=b"a,b", name="r.csv") == ftr.LocalFile(b"a,b", name="r.csv")
    assert ftr.file_ref(tmp_path / "r.pdf", type="application/pdf") == ftr.LocalFile(
        str(tmp_path / "r.pdf"), type="application/pdf"
    )
    assert ftr.file_ref(data="data:,x") == {"data": "data:,x"}
    with pytest.raises(ftr.ManifestError):
        ftr.Image.View(images=[ftr.LocalFile(b"x", name="a/b")])
    with pytest.raises(TypeError):
        ftr.LocalFile(3)
    picker = ftr.Image.WithSelectOne(id="p", images=[b"x"], lists=[["a"]])

    def pick(p: Any) -> None: ...

    with pytest.raises(ftr.BundleError, match="init\\[0\\]/images/0"):
        ftr.build("m", [picker], [pick], entry=tmp_path / "app.py", out=tmp_path)


def _app(*steps: Any, init: tuple[Component, ...] = ()) -> App:
    return App("m", init, tuple((f.__name__, f) for f in steps))


def _run(step: str, index: int = 0, **fields: Any) -> Run:
    header = {"id": 1, "step": step, "index": index, "inputs": {}, "state": None, **fields}
    return Run.from_header(header)


def test_runs_name_a_step_by_name_and_position() -> None:
    def first(x: Any = None) -> None: ...
    def second(state: Any, word: Any = None) -> None: ...

    app = _app(first, second, init=(ftr.Text.In(id="x"),))
    assert app.resolve(_run("first"))[1] == app.init
    with pytest.raises(RequestError, match="not step 1"):
        app.resolve(_run("first", 1))
    with pytest.raises(RequestError, match="needs the input components"):
        app.resolve(_run("second", 1))
    with pytest.raises(RequestError, match="component 0"):
        app.resolve(_run("second", 1, components=[{"type": "Nope"}]))
    word = ftr.Text.In(id="word").to_dict()
    assert app.resolve(_run("second", 1, components=[word]))[1] == [ftr.Text.In(id="word")]


def test_answers_carry_the_state_and_the_steps_own_traceback() -> None:
    def first(x: str) -> Any:
        return ftr.Text.View(x), {"seen": x}

    def second(word: str, state: dict[str, str]) -> Any:
        return ftr.Json.View({"word": word, **state})

    app = _app(first, second, init=(ftr.Text.In(id="x"),))
    header, parts, _ = answer(app, _run("first", inputs={"x": "a"}), [], since=0)
    assert header["state"] == {"part": 0}
    components = [ftr.Text.In(id="word").to_dict()]
    run = _run("second", 1, inputs={"word": "b"}, components=components, state={"part": 0})
    header, _, _ = answer(app, run, parts, since=0)
    assert header["outputs"][0]["data"] == {"word": "b", "seen": "a"}
    bad_state = _run("second", 1, inputs={"word": "b"}, components=components, state={"part": 0})
    header, _, _ = answer(app, bad_state, [b"not a pickle"], since=0)
    assert header["type"] == "error" and "unpickled" in header["error"] and header["traceback"]
    header, _, _ = answer(app, _run("first", inputs={"x": 1}), [], since=0)
    assert header["type"] == "error" and header["error"].startswith("ManifestError: ")
    assert "in first" in header["traceback"]


def test_an_app_registers_exactly_one_model() -> None:
    def step() -> None: ...

    with pytest.raises(LoadError, match="no model"):
        _the_model({})
    reg = registry.Registration("a", (), (step,))
    with pytest.raises(LoadError, match="2 models \\(a, b\\)"):
        _the_model({"a": reg, "b": registry.Registration("b", (), (step,))})
    assert _the_model({"a": reg}).step_names == ["step"]


def test_one_line_errors_keep_the_whole_reason() -> None:
    assert one_line(ValueError("bad\nworse")) == "ValueError: bad worse"
    assert one_line(KeyError()) == "KeyError"
    with pytest.raises(ftr.ManifestError) as err:
        ftr.Text.View(text="x" * 10_000_001)
    assert one_line(err.value) == (
        "ManifestError: invalid Text.View: /text: must be at most 10000000 characters"
    )


def test_a_result_that_cannot_be_sent_is_answered_with_an_error() -> None:
    def big() -> Any:
        return ftr.File.Download(files=[b"x" * 500])

    def odd(state: Any) -> Any:
        return ftr.Json.View({"not json": {1, 2}})

    server, worker = socket.socketpair()
    with server, worker:
        for n, step in enumerate(("big", "odd")):
            run = {"type": "run", "id": n, "step": step, "index": n, "inputs": {}}
            server.sendall(encode(run | {"components": []}))
        server.sendall(encode({"type": "shutdown"}))
        assert serve(worker, _app(big, odd), limit=1000, output=100, since=0) == 0
        answers = [read_frame(server, 100), read_frame(server, 100)]
    assert [a.header["type"] for a in answers if a] == ["error", "error"]
    assert "500 bytes, over the limit of 100" in answers[0].header["error"]
    assert "not JSON serializable" in answers[1].header["error"]
