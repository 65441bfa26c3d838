"""Hugging Face `transformers` pipelines: saved with `save_pretrained` (weights as safetensors,
the tokenizer or image processor beside them) and run with transformers' own pipeline in a
worker. A text classifier takes a text and gives a `Label`, an image classifier an uploaded
image and a `Label`; a text generator, summarizer or translator a text and a text.

No pipeline is converted to ONNX: transformers has no exporter of its own (Optimum's is a
separate project), so these run with the framework, and say so."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .flavor import Flavor, Interface, Prediction, Saved, pinned

FOLDER = "pipeline"
EXAMPLES = "examples"
"""Where the sample's pictures go in the bundle, as the page's examples."""
CLASSIFY = {"text-classification": "text", "image-classification": "image"}
"""The classifying tasks and what each takes."""
GENERATE = {
    "text-generation": "generated_text",
    "text2text-generation": "generated_text",
    "summarization": "summary_text",
    "translation": "translation_text",
}
"""The generating tasks and the key of their answer's text."""
MAX_NEW_TOKENS = 64
"""How long a generated answer may be when the pipeline's generation config does not say."""


def _task(pipe: Any) -> str:
    task = str(getattr(pipe, "task", ""))
    return "translation" if task.startswith("translation") else task


class TransformersFlavor(Flavor):
    name = "transformers"
    framework = "transformers"

    def matches(self, obj: Any) -> bool:
        transformers = sys.modules.get("transformers")
        return transformers is not None and isinstance(obj, transformers.Pipeline)

    def check(self, obj: Any) -> None:
        task = _task(obj)
        if task not in CLASSIFY and task not in GENERATE:
            known = ", ".join([*CLASSIFY, *GENERATE])
            raise DeployError(f"feather deploys pipelines of {known}; this one is {task!r}")

    def task(self, obj: Any) -> str:
        return "classification" if _task(obj) in CLASSIFY else "other"

    def classes(self, obj: Any) -> list[Any] | None:
        labels = obj.model.config.id2label
        return [labels[i] for i in sorted(labels)]

    def interface(self, obj: Any, sample: Any) -> Interface:
        from ..components import Image, Text

        task = _task(obj)
        if CLASSIFY.get(task) == "image":
            field = Image.Upload(id="image", title="Image", types=["image/png", "image/jpeg"])
            pictures = self.sample_rows(obj, sample) or []
            files = {f"{EXAMPLES}/{i}.png": _png(p) for i, p in enumerate(pictures[:3])}
            examples = [{"image": {"path": path}} for path in files]
            inputs = [{"name": "image", "type": "uint8"}]
            return Interface([field], examples, inputs, _label(), files)
        texts = self.texts(sample) if sample is not None else []
        examples = [{"text": t} for t in texts[:3]]
        field = Text.In(id="text", title="Text", multiline=True)
        outputs = _label() if task in CLASSIFY else [{"name": "generated", "type": "string"}]
        return Interface([field], examples, [{"name": "text", "type": "string"}], outputs)

    def texts(self, sample: Any) -> list[str]:
        texts = [sample] if isinstance(sample, str) else list(sample)
        if not all(isinstance(t, str) for t in texts):
            raise DeployError("the sample of a text pipeline is a list of texts")
        return texts

    def predict(self, obj: Any, x: Any) -> Prediction:
        task = _task(obj)
        rows = list(x) if not isinstance(x, str) else [x]
        if task in CLASSIFY:
            if CLASSIFY[task] == "image":
                rows = [_image(r) for r in rows]
            classes = self.classes(obj)
            answers = obj(rows, top_k=len(classes))
            if rows and isinstance(answers[0], dict):
                answers = [answers]
            scores = [{a["label"]: float(a["score"]) for a in row} for row in answers]
            return Prediction(
                labels=[max(s, key=s.__getitem__) for s in scores],
                probabilities=[[s.get(c, 0.0) for c in classes] for s in scores],
            )
        key = GENERATE[task]
        extra = {} if task != "text-generation" else {"return_full_text": False}
        config = getattr(obj.model, "generation_config", None)
        longest = getattr(config, "max_new_tokens", None) or MAX_NEW_TOKENS
        answers = obj(rows, max_new_tokens=longest, **extra)
        texts = [(a[0] if isinstance(a, list) else a)[key] for a in answers]
        return Prediction(values=texts)

    def save(self, obj: Any, folder: Path) -> Saved:
        target = folder / FOLDER
        obj.save_pretrained(target)
        files = tuple(
            sorted(p.relative_to(folder).as_posix() for p in target.rglob("*") if p.is_file())
        )
        wanted = ["transformers", "torch", "safetensors", "numpy"]
        if getattr(obj, "tokenizer", None) is not None:
            wanted.append("tokenizers")
        if CLASSIFY.get(_task(obj)) == "image":
            wanted.append("pillow")
        loader = {"task": str(obj.task)}
        return Saved(f"{FOLDER}/config.json", "transformers", pinned(*wanted), loader, files=files)

    def load(self, path: Path, loader: dict[str, Any]) -> Any:
        # Everything is in the folder: a hub is never asked.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import pipeline

        return pipeline(loader["task"], model=str(path.parent), trust_remote_code=False)

    def answer(self, model: Any, spec: dict[str, Any], rows: list[Any]) -> list[Any]:
        """One output component a row (a text, or an image's path or PIL image)."""
        import feather as ftr

        from .serving import outputs

        out = self.predict(model, rows)
        if out.values is not None:
            return [ftr.Text.View(t, id="generated", title="Generated") for t in out.values]
        return outputs(spec["task"], out, spec.get("classes"), None)

    def step(self, model: Any, spec: dict[str, Any]) -> Any:
        import feather as ftr

        if "image" in {c["id"] for c in spec["init"]}:

            @ftr.step(title="Predict")
            def predict(image: ftr.UploadedFile) -> Any:
                return self.answer(model, spec, [image.path])[0]

            return predict

        @ftr.step(title="Predict", batch=True, max_batch_size=16)
        def predict(text: list[str]) -> list[Any]:
            return self.answer(model, spec, text)

        return predict

    def sample_rows(self, obj: Any, sample: Any) -> Any:
        """The sample as `predict` takes it: texts, or images (paths or PIL images)."""
        if sample is None:
            return None
        if CLASSIFY.get(_task(obj)) == "image":
            return [sample] if not isinstance(sample, (list, tuple)) else list(sample)
        return self.texts(sample)

    def native_reason(self) -> str:
        return "transformers has no ONNX exporter of its own: the pipeline runs with transformers"


def _label() -> list[dict[str, str]]:
    return [{"name": "label", "type": "string"}]


def _image(value: Any) -> Any:
    """A PIL image of a path or an image, in RGB as image processors expect."""
    from PIL import Image

    if isinstance(value, (str, os.PathLike)):
        with Image.open(value) as img:
            return img.convert("RGB")
    try:
        return value.convert("RGB")
    except AttributeError:
        raise DeployError(f"an image pipeline takes images or their paths, not {value!r}") from None


def _png(value: Any) -> bytes:
    """A sample picture as PNG bytes (lossless, so the example answers as the sample did)."""
    import io

    out = io.BytesIO()
    _image(value).save(out, format="PNG")
    return out.getvalue()
