"""`GET /metrics` read with Prometheus's own parser (`prometheus_client`, OpenMetrics): each call
of a step is counted once by outcome and timed, and the process's figures are there.
scripts/api-fuzz.sh runs it against `feather demo` (FEATHER_OIP_URL=host:port, and an admin's
FEATHER_FUZZ_TOKEN) after test_oip.py, whose readiness wait it relies on."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

BASE = "http://" + os.environ.get("FEATHER_OIP_URL", "127.0.0.1:7860")
TOKEN = os.environ.get("FEATHER_FUZZ_TOKEN", "")
SHOUT = {"model": "demo/shout", "version": "1", "step": "shout"}


def scrape(token: str | None = TOKEN) -> list[Sample]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(f"{BASE}/metrics", headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["Content-Type"].startswith("application/openmetrics-text")
        text = r.read().decode()
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist yet."""
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, f"{name} {labels}: {found}"
    return found[0] if found else 0.0


def predict(text: str) -> int:
    return post("/api/v1/models/demo/shout/predict", {"inputs": {"text": text}})


def post(path: str, body: object) -> int:
    req = urllib.request.Request(
        f"{BASE}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module", autouse=True)
def needs_a_token() -> None:
    assert TOKEN, "FEATHER_FUZZ_TOKEN: an admin's token (scripts/api-fuzz.sh makes one)"


def test_each_call_is_counted_once_by_outcome_and_timed() -> None:
    before = scrape()
    statuses = [predict("hi"), predict("again"), predict("x" * 300)]
    assert statuses == [200, 200, 422]
    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **SHOUT, **labels) - value(before, name, **SHOUT, **labels)

    assert grew("feather_step_calls_total", outcome="ok") == 2
    assert grew("feather_step_calls_total", outcome="invalid_inputs") == 1
    assert grew("feather_step_duration_seconds_count") == 3
    assert grew("feather_step_duration_seconds_bucket", le="+Inf") == 3
    assert grew("feather_step_duration_seconds_sum") > 0


def test_calls_through_the_other_protocols_count_the_same() -> None:
    before = scrape()
    tensor = {"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hi"]}
    assert post("/v2/models/demo/shout/infer", {"inputs": [tensor]}) == 200
    mlflow = {"dataframe_split": {"columns": ["text"], "data": [["hi"], ["there"]]}}
    assert post("/api/v1/models/demo/shout/invocations", mlflow) == 200
    after = scrape()
    ok = {**SHOUT, "outcome": "ok"}
    # One for the tensor, one per row of the frame.
    grew = value(after, "feather_step_calls_total", **ok) - value(
        before, "feather_step_calls_total", **ok
    )
    assert grew == 3


def test_the_process_reports_its_memory_descriptors_cpu_and_start() -> None:
    samples = scrape()
    assert value(samples, "feather_process_resident_memory_bytes") > 1 << 20
    assert value(samples, "feather_process_open_fds") > 3
    assert value(samples, "feather_process_cpu_seconds") > 0
    started = value(samples, "feather_process_start_time_seconds")
    assert time.time() - 86400 < started <= time.time()


def test_without_a_token_the_metrics_are_refused() -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrape(token=None)
    assert refused.value.code == 401
    assert json.load(refused.value)["error"]["code"] == "unauthorized"
