"""`build`: the manifest and bundle it writes, ids it assigns, and worker registration."""

from __future__ import annotations

import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import feather as ftr
from feather import registry
from feather.build import assign_ids, slug_id
from feather.step import step_info

from .conftest import git, write

APP = """
import feather as ftr

@ftr.step(title="Classify", description="Guess the digit.")
def classify(a_digit, input_2):
    return []

@ftr.step
def explain(answer, state):
    return []

out = ftr.build(
    "digits",
    [ftr.Image.Upload(title="A digit"), ftr.Slider(min=0, max=1, step=0.1)],
    [classify, explain],
    title="Digit classifier",
    tags=["vision"],
    requirements=["pytest>=7", "not-installed-anywhere==1.0"],
    file_bundle=ftr.bundle(["models/digits/app.py", "models/digits/model.bin"]),
)
print(out)
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    write(tmp_path / "proj", {"models/digits/app.py": APP.replace('"models/digits/', '"')})
    (tmp_path / "proj/models/digits/model.bin").write_bytes(b"\0" * 10)
    return tmp_path / "proj/models/digits/app.py"


def _members(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def test_build_from_an_app_script(app: Path, run_app: Callable[..., Any]) -> None:
    done = run_app(app, env={"FEATHER_BUILD_DIR": ""})
    out = app.parent / ".feather" / "build"
    assert done.stdout.strip() == str(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert ftr.validate_manifest(manifest) == []
    assert manifest == ftr.canonical_manifest(manifest)
    provenance = manifest.pop("provenance")
    assert manifest == {
        "schema": "feather.manifest/v1",
        "name": "digits",
        "title": "Digit classifier",
        "description": "",
        "tags": ["vision"],
        "runtime": {
            "kind": "python",
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "entry": "app.py",
            "requirements": ["pytest>=7", "not-installed-anywhere==1.0"],
        },
        "init": [
            ftr.Image.Upload(id="a_digit", title="A digit").to_dict(),
            ftr.Slider(id="input_2", min=0, max=1, step=0.1).to_dict(),
        ],
        "steps": [
            {"name": "classify", "title": "Classify", "description": "Guess the digit."},
            {"name": "explain", "title": "explain", "description": ""},
        ],
    }
    assert list(provenance["packages"]) == ["pytest"]
    assert "git" not in provenance
    assert _members(out / "bundle.tar.gz") == ["app.py", "model.bin"]
    first = (out / "bundle.tar.gz").read_bytes()
    run_app(app, env={"FEATHER_BUILD_DIR": ""})
    assert (out / "bundle.tar.gz").read_bytes() == first, "a rebuild gives the same bytes"


def test_entry_is_relative_to_the_bundle_root(app: Path, run_app: Callable[..., Any]) -> None:
    root = app.parents[2]
    app.write_text(APP.replace("ftr.bundle([", f"ftr.bundle(root={str(root)!r}, code_files=["))
    out = root / "build-out"
    run_app(app, env={"FEATHER_BUILD_DIR": str(out)})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runtime"]["entry"] == "models/digits/app.py"
    assert _members(out / "bundle.tar.gz") == ["models/digits/app.py", "models/digits/model.bin"]


def test_here_bundle_skips_the_output_and_records_git(
    git_repo: Path, run_app: Callable[..., Any]
) -> None:
    app = git_repo / "app.py"
    app.write_text(
        APP.replace(
            'ftr.bundle(["models/digits/app.py", "models/digits/model.bin"])', "ftr.bundle.here()"
        )
    )
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "first")
    run_app(app, env={"FEATHER_BUILD_DIR": ""})
    run_app(app, env={"FEATHER_BUILD_DIR": ""})  # the first build's output is not bundled
    out = git_repo / ".feather/build"
    assert _members(out / "bundle.tar.gz") == ["app.py"]
    git_info = json.loads((out / "manifest.json").read_text())["provenance"]["git"]
    assert git_info == {
        "commit": git(git_repo, "rev-parse", "HEAD"),
        "branch": "main",
        "dirty": False,
    }


def _app_file(tmp_path: Path) -> Path:
    app = tmp_path / "app.py"
    app.write_text("")
    return app


def _run(**inputs: Any) -> list[Any]:
    return []


def test_in_process_build_with_entry_and_out(tmp_path: Path) -> None:
    app = _app_file(tmp_path)
    out = ftr.build("m", [], _run, entry=app, out=tmp_path / "o", python="3.12")
    assert out == tmp_path / "o"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runtime"]["python"] == "3.12"
    assert manifest["steps"] == [{"name": "_run", "title": "_run", "description": ""}]
    assert (out / "manifest.json").read_text().endswith("}\n")


def test_build_rejects_a_bad_manifest(tmp_path: Path) -> None:
    app = _app_file(tmp_path)
    with pytest.raises(ftr.ManifestError) as err:
        ftr.build("Bad Name", [], [_run], tags=["x", "x"], entry=app, out=tmp_path / "o")
    assert {p.path for p in err.value.problems} == {"/name", "/tags/1"}
    assert not (tmp_path / "o").exists()


def test_build_refuses_requirements_that_are_paths_urls_or_options(tmp_path: Path) -> None:
    app = _app_file(tmp_path)
    requirements = [
        "scikit-learn==1.9.1",
        "evil @ https://example.org/evil-1.0-py3-none-any.whl",
        str(tmp_path / "a-local-package"),
        "--index-url=https://example.org/simple",
    ]
    with pytest.raises(ftr.ManifestError) as err:
        ftr.build("m", [], [_run], requirements=requirements, entry=app, out=tmp_path / "o")
    problems = {p.path: p.reason for p in err.value.problems}
    assert set(problems) == {f"/runtime/requirements/{i}" for i in (1, 2, 3)}
    assert "not a path or a URL" in problems["/runtime/requirements/1"]
    assert not (tmp_path / "o").exists()


def test_entry_must_be_in_the_bundle(tmp_path: Path) -> None:
    app = _app_file(tmp_path)
    (tmp_path / "other.py").write_text("")
    with pytest.raises(ftr.BundleError, match="not among the bundle's files"):
        ftr.build("m", [], [_run], entry=app, file_bundle=ftr.bundle(["other.py"], root=tmp_path))


def test_ids_from_titles_and_positions() -> None:
    got = assign_ids(
        [ftr.Text.In(title="Your question?"), ftr.Checkbox(), ftr.Slider(id="temp", min=0, max=1)]
    )
    assert [c.id for c in got] == ["your_question", "input_2", "temp"]
    assert slug_id("Größe (cm)") == "groe_cm"
    assert slug_id("3D shape") is None
    assert slug_id("") is None


def test_repeated_ids_are_an_error() -> None:
    with pytest.raises(ftr.ManifestError) as err:
        assign_ids([ftr.Text.In(title="Name"), ftr.Text.In(id="name")])
    assert [p.path for p in err.value.problems] == ["/init/1/id"]


def test_steps() -> None:
    @ftr.step
    def bare(x: int) -> int:
        return x + 1

    @ftr.step(title="Titled", description="Does it.")
    def titled() -> None: ...

    assert bare(1) == 2, "the function is returned as it was"
    assert step_info(bare).to_dict() == {"name": "bare", "title": "bare", "description": ""}
    assert step_info(titled) == ftr.StepInfo("titled", "Titled", "Does it.")
    with pytest.raises(ftr.ManifestError):

        @ftr.step
        def Shout() -> None: ...

    with pytest.raises(ftr.ManifestError):
        ftr.step(title="")(lambda: None)


def test_worker_mode_only_registers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEATHER_WORKER", "1")
    monkeypatch.setattr(registry, "_registered", {})
    init = [ftr.Text.In(title="Question")]
    assert ftr.build("m", init, [_run], out=tmp_path / "o") is None
    assert ftr.publish("m", init, [_run], server="http://127.0.0.1:9") == {}
    assert not (tmp_path / "o").exists()
    got = ftr.registered()["m"]
    assert [c.id for c in got.init] == ["question"]
    assert got.steps == (_run,)


def test_a_step_whose_parameters_do_not_answer_its_inputs_is_refused(tmp_path: Path) -> None:
    app = _app_file(tmp_path)
    init = [ftr.Text.In(title="Question"), ftr.Slider(id="temperature", min=0, max=1)]

    def answer(question: str, temp: float, top_k: int) -> str:
        return question

    with pytest.raises(ftr.ManifestError) as err:
        ftr.build("m", init, [answer], entry=app, out=tmp_path / "o")
    reasons = {p.path: p.reason for p in err.value.problems}
    assert set(reasons) == {"/steps/0"}
    assert "temperature" in reasons["/steps/0"], "the input it does not take"
    assert "temp" in reasons["/steps/0"] and "top_k" in reasons["/steps/0"], "what it asks for"
    assert not (tmp_path / "o").exists()


def test_a_later_step_must_take_the_state(tmp_path: Path) -> None:
    app = _app_file(tmp_path)

    def first(question: str) -> list:
        return []

    def second(answer: str) -> str:
        return answer

    with pytest.raises(ftr.ManifestError) as err:
        ftr.build("m", [ftr.Text.In(title="Question")], [first, second], entry=app, out=tmp_path)
    assert [p.path for p in err.value.problems] == ["/steps/1"]
    assert "state" in err.value.problems[0].reason


def test_steps_that_take_what_they_are_given_are_accepted(tmp_path: Path) -> None:
    app = _app_file(tmp_path)
    init = [ftr.Text.In(title="Question"), ftr.Checkbox(id="loud")]

    def with_defaults(question: str, loud: bool, style: str = "plain") -> list:
        return []

    def anything(**values: Any) -> list:
        return []

    def later(state: Any, **answers: Any) -> str:
        return ""

    for steps in ([with_defaults, later], [anything], [ftr.step(batch=True)(anything)]):
        assert ftr.build("m", init, steps, entry=app, out=tmp_path / "o")


PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"


def _pets(tmp_path: Path) -> tuple[Path, list[ftr.Component]]:
    app = _app_file(tmp_path)
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples/cat.png").write_bytes(PNG)
    (tmp_path / "samples/notes.txt").write_text("not a picture")
    caption = ftr.Text.In(id="caption", required=False)
    return app, [ftr.Image.Upload(id="photo", types=["image/png"]), caption]


def test_examples_give_values_and_files_that_ship_with_the_version(tmp_path: Path) -> None:
    app, init = _pets(tmp_path)
    examples = [{"photo": "samples/cat.png", "caption": "a cat"}, ["samples/cat.png", "again"]]
    out = ftr.build("pets", init, _run, entry=app, out=tmp_path / "o", examples=examples)
    assert out is not None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["examples"] == [
        {"photo": {"path": "samples/cat.png"}, "caption": "a cat"},
        {"photo": {"path": "samples/cat.png"}, "caption": "again"},
    ]
    # The example's file is bundled without being listed, and only the files named are.
    assert _members(out / "bundle.tar.gz") == ["app.py", "samples/cat.png"]
    # With one input, an example may be its value alone.
    out = ftr.build(
        "pets", init[:1], _run, entry=app, out=tmp_path / "o", examples=["samples/cat.png"]
    )
    assert out is not None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["examples"] == [{"photo": {"path": "samples/cat.png"}}]


def test_examples_that_would_not_fill_the_form_are_refused(tmp_path: Path) -> None:
    app, init = _pets(tmp_path)
    cases: list[tuple[Any, type[Exception], str]] = [
        ([{"photo": "samples/dog.png"}], ftr.BundleError, "samples/dog.png does not exist"),
        ([{"photo": str(tmp_path.parent / "elsewhere.png")}], ftr.BundleError, "outside"),
        ([{"photo": "samples/notes.txt"}], ftr.ManifestError, "/examples/0/photo"),
        ([{"colour": "red"}], ftr.ManifestError, "/examples/0/colour"),
        ([["samples/cat.png", "a", "b"]], ftr.ManifestError, "/examples/0"),
        (["a cat"], ftr.ManifestError, "/examples/0"),
        ([3], ftr.ManifestError, "/examples/0"),
    ]
    for examples, error, text in cases:
        with pytest.raises(error) as err:
            ftr.build("pets", init, _run, entry=app, out=tmp_path / "o", examples=examples)
        shown = str(err.value) + " ".join(p.path for p in getattr(err.value, "problems", []))
        assert text in shown, (examples, shown)
        assert not (tmp_path / "o").exists()


def test_a_view_of_a_bundle_file_brings_the_file(tmp_path: Path) -> None:
    app, (_, caption) = _pets(tmp_path)
    init = [ftr.Image.View(id="cat", images=["samples/cat.png"]), caption]
    out = ftr.build("pets", init, _run, entry=app, out=tmp_path / "o")
    assert out is not None
    assert "samples/cat.png" in _members(out / "bundle.tar.gz")
    init = [ftr.Image.View(id="dog", images=["samples/dog.png"]), caption]
    with pytest.raises(ftr.BundleError, match=r"samples/dog\.png does not exist"):
        ftr.build("pets", init, _run, entry=app, out=tmp_path / "o2")


def test_the_description_is_the_app_files_docstring_unless_given(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text('"""Shouts **back**."""\n\nimport feather as ftr\n')
    out = ftr.build("m", [], _run, entry=app, out=tmp_path / "o")
    assert out is not None
    assert json.loads((out / "manifest.json").read_text())["description"] == "Shouts **back**."
    out = ftr.build("m", [], _run, entry=app, out=tmp_path / "o", description="")
    assert out is not None
    assert json.loads((out / "manifest.json").read_text())["description"] == ""
