"""The example models in examples/: their app files stay short, and each one, trained and
published into a real server (`FEATHER_BIN`), answers as examples/README.md says it does.

One server serves every example, so the environments (built with uv from PyPI) build side by
side while the first example is called. Run with
`FEATHER_BIN=target/debug/feather pytest python/tests/test_examples.py`.
"""

from __future__ import annotations

import base64
import csv
import io
import mimetypes
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from .server_support import Server, clean_env, request, serve

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PUBLISHED = ["echo", "iris", "digits", "review"]
ENV_TIMEOUT = 180.0
"""Seconds for a model's environment to build: uv fetches scikit-learn when its cache is cold."""


def code_lines(path: Path) -> int:
    """Lines that are neither blank nor comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize(
    "app",
    sorted([*EXAMPLES.glob("*/app.py"), *EXAMPLES.glob("*/deploy.py")]),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_an_example_app_file_has_fewer_than_15_lines(app: Path) -> None:
    assert code_lines(app) < 15, f"{app} has {code_lines(app)} lines of code"


@pytest.mark.parametrize("source", ["iris/app.py", "digits/digits.py"])
def test_the_pinned_scikit_learn_is_the_one_that_trains(source: str) -> None:
    # model.pkl is pickled by the scikit-learn of this environment and unpickled by the pinned
    # one in the model's: a mismatch shows up as warnings or as a model that does not load.
    pins = re.findall(r"scikit-learn==([\w.]+)", (EXAMPLES / source).read_text())
    assert pins == [version("scikit-learn")], f"{source} pins {pins}"


def run_script(folder: Path, script: str) -> None:
    done = subprocess.run(
        [sys.executable, script],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{folder / script} failed:\n{done.stdout}\n{done.stderr}"


def prepare(example: Path) -> None:
    """What `feather demo` does before publishing: train when there is no model, make samples
    when there are none."""
    # Review's train.py only copies the digits example's files: running it every time keeps
    # the copies in step with their originals.
    if (example / "train.py").is_file() and (
        example.name == "review" or not (example / "model.pkl").is_file()
    ):
        run_script(example, "train.py")
    if (example / "make_samples.py").is_file() and not (example / "samples").is_dir():
        run_script(example, "make_samples.py")


def publish(server: Server, example: Path) -> str:
    """`feather publish` as the README has it; an error message, or "" when it worked."""
    done = subprocess.run(
        [
            server.binary,
            "publish",
            str(example),
            "--server",
            server.url,
            "--token",
            server.token,
            "--python",
            sys.executable,
            # The environments build side by side while the first example is called.
            "--no-wait",
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return f"feather publish {example} failed:\n{done.stdout}\n{done.stderr}"
    if not done.stdout.startswith(f"published alice/{example.name} version 1"):
        return f"unexpected output of feather publish {example}:\n{done.stdout}"
    return ""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    """One server with every example published; each example's publishing error, if any, is
    reported by that example's test alone."""
    prepare(EXAMPLES / "digits")  # review copies its model, and the tests use its samples
    with serve(tmp_path_factory.mktemp("examples")) as server:
        errors = {}
        for name in PUBLISHED:
            prepare(EXAMPLES / name)
            errors[name] = publish(server, EXAMPLES / name)
        yield server, errors


def ready(published: tuple[Server, dict[str, str]], name: str) -> Server:
    """The server once `name`'s environment is built; the test fails with the build log if the
    build failed or took too long."""
    server, errors = published
    if errors[name]:
        pytest.fail(errors[name])
    url = server.api(f"/models/alice/{name}/versions/1/environment")
    deadline = time.monotonic() + ENV_TIMEOUT
    while True:
        status, env = request("GET", url)
        assert status == 200, env
        if env["status"] == "ready":
            return server
        if env["status"] == "failed":
            pytest.fail(f"the environment of {name} failed: {env.get('reason')}\n{env.get('log')}")
        if time.monotonic() > deadline:
            pytest.fail(f"the environment of {name} is not ready after {ENV_TIMEOUT} s: {env}")
        time.sleep(0.5)


def call(server: Server, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    status, answer = request(method, server.api(path), body, token=server.token)
    log = server.log.read_text()[-3000:]
    assert status == expect, f"{method} {path}: {status} {answer}\nserver log:\n{log}"
    return answer


def data_url(path: Path) -> dict[str, str]:
    """A file as the API takes it: a `data:` URL, with its name."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    encoded = base64.b64encode(path.read_bytes()).decode()
    return {"data": f"data:{mime};base64,{encoded}", "name": path.name}


def download(server: Server, file_id: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(server.api(f"/files/{file_id}"), timeout=10) as r:
        return r.headers["Content-Type"], r.read()


def top(label: dict[str, Any]) -> str:
    """The most likely class of a `Label` output, after checking it is one."""
    assert label["type"] == "Label", label
    confidences = label["confidences"]
    assert all(0 <= p <= 1 for p in confidences.values()), confidences
    return str(max(confidences, key=confidences.get))


SAMPLES = EXAMPLES / "digits" / "samples"


def test_echo_returns_its_input(published: tuple[Server, dict[str, str]]) -> None:
    server = ready(published, "echo")
    text = "Hello, feather!\nSecond line, ünïcode ✓"
    answer = call(server, "POST", "/models/alice/echo/predict", {"inputs": {"text": text}})
    assert [(o["type"], o["text"]) for o in answer["outputs"]] == [("Text.View", text)]


@pytest.mark.parametrize(
    ("measurements", "species"),
    [
        ((5.1, 3.5, 1.4, 0.2), "setosa"),
        ((7.0, 3.2, 4.7, 1.4), "versicolor"),
        ((6.3, 3.3, 6.0, 2.5), "virginica"),
    ],
)
def test_iris_names_the_species_of_known_flowers(
    published: tuple[Server, dict[str, str]], measurements: tuple[float, ...], species: str
) -> None:
    server = ready(published, "iris")
    manifest = call(server, "GET", "/models/alice/iris/versions/1")["manifest"]
    ids = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert [c["id"] for c in manifest["init"]] == ids
    for component in manifest["init"]:
        assert component["type"] == "Number.In"
        assert component["min"] <= component["default"] <= component["max"], component
    assert manifest["runtime"]["requirements"][0].startswith("scikit-learn==")
    inputs = dict(zip(ids, measurements, strict=True))
    answer = call(server, "POST", "/models/alice/iris/predict", {"inputs": inputs})
    (label,) = answer["outputs"]
    assert top(label) == species, label
    assert set(label["confidences"]) == {"setosa", "versicolor", "virginica"}


def test_digits_reads_the_sample_images(published: tuple[Server, dict[str, str]]) -> None:
    server = ready(published, "digits")
    samples = sorted(SAMPLES.glob("digit-*"))
    assert len(samples) >= 10, f"make_samples.py wrote {samples}"
    read = {}
    for sample in samples:
        answer = call(
            server, "POST", "/models/alice/digits/predict", {"inputs": {"image": data_url(sample)}}
        )
        (label,) = answer["outputs"]
        assert sorted(label["confidences"]) == [str(d) for d in range(10)], label
        read[sample.name] = top(label)
    expected = {sample.name: sample.name.split("-")[1].split(".")[0] for sample in samples}
    assert read == expected


def test_digits_offers_sample_pictures_as_examples(
    published: tuple[Server, dict[str, str]],
) -> None:
    server = ready(published, "digits")
    examples = call(server, "GET", "/models/alice/digits/versions/1")["manifest"]["examples"]
    paths = [e["image"]["path"] for e in examples]
    assert paths == ["samples/digit-3.png", "samples/digit-7.png", "samples/digit-4-dark.jpg"]
    for example, path in zip(examples, paths, strict=True):
        # Each runs as the page sends it: the picture is the version's own.
        (label,) = call(server, "POST", "/models/alice/digits/predict", {"inputs": example})[
            "outputs"
        ]
        assert top(label) == path.split("-")[1].split(".")[0], label


def test_review_asks_a_person_then_sums_up(published: tuple[Server, dict[str, str]]) -> None:
    server = ready(published, "review")
    samples = [SAMPLES / "digit-3.png", SAMPLES / "digit-5.png", SAMPLES / "digit-7-dark.jpg"]
    images = [data_url(s) for s in samples]
    run = call(server, "POST", "/models/alice/review/runs", {"inputs": {"images": images}}, 201)
    assert run["status"] == "awaiting_input", run
    assert run["next"]["name"] == "summarize"
    (select,) = run["next"]["components"]
    assert (select["id"], select["type"]) == ("labels", "Image.WithSelectOne")
    lists = select["lists"]
    assert [len(items) for items in lists] == [3, 3, 3], lists
    assert [items[0] for items in lists] == ["3", "5", "7"], "the likeliest label comes first"
    shown = [download(server, image["id"]) for image in select["images"]]
    assert [content for _, content in shown] == [s.read_bytes() for s in samples]
    assert [mime for mime, _ in shown] == ["image/png", "image/png", "image/jpeg"]

    # The person confirms the first and last guesses and corrects the second.
    answers = [lists[0][0], lists[1][1], lists[2][0]]
    done = call(server, "POST", f"/runs/{run['id']}/steps", {"inputs": {"labels": answers}})
    assert done["status"] == "completed", done
    table, download_view = done["steps"][1]["outputs"]
    assert table["type"] == "Table.View"
    assert table["columns"] == ["image", "model guess", "confirmed label", "agreed"]
    assert table["rows"] == [
        [1, "3", "3", True],
        [2, "5", answers[1], False],
        [3, "7", "7", True],
    ]
    assert download_view["type"] == "File.Download"
    (labels_csv,) = download_view["files"]
    assert labels_csv["name"] == "labels.csv"
    mime, content = download(server, labels_csv["id"])
    assert mime.startswith("text/csv"), mime
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0][:3] == ["image", "model_guess", "label"]
    assert len(rows[0]) == 3 + 64
    assert [row[:3] for row in rows[1:]] == [
        ["1", "3", "3"],
        ["2", "5", answers[1]],
        ["3", "7", "7"],
    ]
