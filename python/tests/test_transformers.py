"""Hugging Face `transformers` pipelines deployed in one call: tiny models made on the spot
(random weights from a config, a tokenizer trained here on a few sentences; nothing comes from
a hub), saved with `save_pretrained` and run with transformers in a worker; through REST, the
Open Inference Protocol and `ftr.load`, answering as the pipeline itself does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
    ViTConfig,
    ViTForImageClassification,
    ViTImageProcessorPil,
    pipeline,
)

import feather as ftr

from .server_support import Server, request, request_files, serve
from .test_deploy import assert_refused, manifest, members

TEXTS = ["a good film", "a bad film", "i loved it", "i hated it", "great acting", "awful plot"]
SENTIMENT = {0: "negative", 1: "positive"}


def tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer trained on TEXTS."""
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[EOS]"]
    tok.train_from_iterator(TEXTS, trainers.WordLevelTrainer(special_tokens=special))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        eos_token="[EOS]",
    )


def sentiment() -> Any:
    torch.manual_seed(0)
    tok = tokenizer()
    config = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        id2label=SENTIMENT,
        label2id={v: k for k, v in SENTIMENT.items()},
    )
    return pipeline(
        "text-classification", model=BertForSequenceClassification(config).eval(), tokenizer=tok
    )


def pictures() -> Any:
    torch.manual_seed(0)
    classes = {0: "red", 1: "green", 2: "blue"}
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=classes,
        label2id={v: k for k, v in classes.items()},
    )
    processor = ViTImageProcessorPil(size={"height": 32, "width": 32})
    return pipeline(
        "image-classification",
        model=ViTForImageClassification(config).eval(),
        image_processor=processor,
    )


def writer() -> Any:
    torch.manual_seed(0)
    tok = tokenizer()
    config = GPT2Config(
        vocab_size=tok.vocab_size,
        n_positions=128,
        n_embd=16,
        n_layer=1,
        n_head=2,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.eos_token_id,
    )
    model = GPT2LMHeadModel(config).eval()
    # Greedy, so that the worker's answer can be compared with this process's.
    model.generation_config.do_sample = False
    return pipeline("text-generation", model=model, tokenizer=tok)


def picture(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def scores(pipe: Any, x: Any) -> dict[str, float]:
    return {a["label"]: a["score"] for a in pipe(x, top_k=None)}


def test_a_text_classifier_takes_a_text_and_gives_a_label(tmp_path: Path, worker: Any) -> None:
    pipe = sentiment()
    built = ftr.build_deployment(pipe, "sentiment", tmp_path, sample=TEXTS[:4])
    assert built.engine == "python"
    assert "no ONNX exporter" in built.reason
    m = manifest(tmp_path)
    assert [c["type"] for c in m["init"]] == ["Text.In"]
    assert m["examples"] == [{"text": t} for t in TEXTS[:3]]
    assert m["model"]["classes"] == ["negative", "positive"]
    assert m["model"]["format"] == "transformers"
    assert {"pipeline/config.json", "pipeline/model.safetensors"} <= set(members(tmp_path))
    assert not any(f.endswith((".bin", ".pkl")) for f in members(tmp_path)), "no pickles"
    (_, predict) = worker(tmp_path).steps[0]
    labels = predict(text=["i loved it", "awful"])
    for label, text in zip(labels, ["i loved it", "awful"], strict=True):
        assert label.confidences == pytest.approx(scores(pipe, text), abs=1e-6)


def test_what_a_pipeline_cannot_be_deployed_with_is_named(tmp_path: Path) -> None:
    pipe = sentiment()
    out = tmp_path / "out"
    cases = [({"sample": [1, 2]}, "list of texts"), ({"native": True}, "cannot serve it natively")]
    assert_refused(pipe, out, cases)
    other = pipeline("feature-extraction", model=pipe.model, tokenizer=pipe.tokenizer)
    assert_refused(other, out, [({}, "is 'feature-extraction'")])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("transformers")) as running:
        yield running


def test_a_text_classifier_answers_through_rest_v2_and_as_a_library(
    server: Server, tmp_path: Path
) -> None:
    pipe = sentiment()
    answer = ftr.deploy(
        pipe, name="sentiment", sample=TEXTS[:4], server=server.url, token=server.token
    )
    assert answer["engine"]["kind"] == "python"
    status, out = request(
        "POST",
        server.api("/models/alice/sentiment/predict"),
        body={"inputs": {"text": "i loved it"}},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    (label,) = out["outputs"]
    want = scores(pipe, "i loved it")
    assert label["confidences"] == pytest.approx(want, abs=1e-5)
    assert label["label"] == max(want, key=want.__getitem__)
    status, out = request(
        "POST",
        f"{server.url}/v2/models/alice/sentiment/infer",
        body={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": TEXTS[:2]}]},
        token=server.token,
    )
    assert status == 200, out
    label, probabilities = out["outputs"]
    assert label["data"] == [a["label"] for a in pipe(TEXTS[:2])]
    m = ftr.load("alice/sentiment", server=server.url, token=server.token, cache=tmp_path)
    assert probabilities["name"] == "probabilities"
    assert probabilities["shape"] == [2, len(m.classes)]
    want = [scores(pipe, t)[c] for t in TEXTS[:2] for c in m.classes]
    assert probabilities["data"] == pytest.approx(want, abs=1e-5)
    assert list(m.predict(TEXTS)) == [a["label"] for a in pipe(TEXTS)]
    proba = m.predict_proba(TEXTS[:2])
    assert proba[0] == pytest.approx([scores(pipe, TEXTS[0])[c] for c in m.classes], abs=1e-5)
    (shown,) = m(text="great acting")
    assert shown["confidences"] == pytest.approx(scores(pipe, "great acting"), abs=1e-5)


def test_an_image_classifier_takes_an_upload(server: Server, tmp_path: Path) -> None:
    pipe = pictures()
    answer = ftr.deploy(
        pipe, name="colours", sample=[picture(0)], server=server.url, token=server.token
    )
    assert answer["engine"]["kind"] == "python"
    image = tmp_path / "photo.png"
    picture(1).save(image)
    status, out = request_files(
        server.api("/models/alice/colours/predict"),
        {"image": ("photo.png", image.read_bytes(), "image/png")},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    (label,) = out["outputs"]
    assert label["confidences"] == pytest.approx(scores(pipe, picture(1)), abs=1e-5)
    # The sample's pictures are the page's examples: files of the bundle, run as written.
    status, version = request(
        "GET", server.api("/models/alice/colours/versions/1"), token=server.token
    )
    assert version["manifest"]["examples"] == [{"image": {"path": "examples/0.png"}}], version
    status, out = request(
        "POST",
        server.api("/models/alice/colours/predict"),
        body={"inputs": version["manifest"]["examples"][0]},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    assert out["outputs"][0]["confidences"] == pytest.approx(scores(pipe, picture(0)), abs=1e-5)
    m = ftr.load("alice/colours", server=server.url, token=server.token, cache=tmp_path / "c")
    assert list(m.predict([picture(2), str(image)])) == [
        pipe(picture(2))[0]["label"],
        pipe(picture(1))[0]["label"],
    ]


def test_a_text_generator_gives_a_text(server: Server, tmp_path: Path) -> None:
    pipe = writer()
    answer = ftr.deploy(
        pipe, name="writer", sample=["the film"], server=server.url, token=server.token
    )
    assert answer["engine"]["kind"] == "python"
    status, out = request(
        "POST",
        server.api("/models/alice/writer/predict"),
        body={"inputs": {"text": "a good"}},
        token=server.token,
        timeout=300,
    )
    assert status == 200, out
    (shown,) = out["outputs"]
    want = pipe("a good", max_new_tokens=64, return_full_text=False)[0]["generated_text"]
    assert shown["type"] == "Text.View" and shown["text"] == want
    m = ftr.load("alice/writer", server=server.url, token=server.token, cache=tmp_path)
    assert list(m.predict(["a good"])) == [want]
