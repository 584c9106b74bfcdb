"""The ONNX Runtime backend: the same entities as torch, a cache outside the model folder, clear errors."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import numpy as np
import pytest

from bnner_tui.core import tag_backends
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.tagger import Tagger

_TEXTS = [
    "ঢাকা বাংলাদেশের রাজধানী ।",
    "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন ।",
    "বাংলাদেশ ক্রিকেট বোর্ড মিরপুরে অবস্থিত ।",
    "শেখ হাসিনা , সিডনি ক্রিকেট গ্রাউন্ড , জাতীয় উদ্যান",
    "Dhaka University and Google in London .",
    "x",
    "",
    " ".join(["ঢাকা শহর গেছেন ।"] * 60),  # longer than the tiny model's 128 pieces: windows
]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BNNER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _spans(result) -> list[tuple[str, str, int, int]]:
    return [(e.text, e.label, e.start, e.end) for e in result.entities]


def _model_files(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_onnx_backend_gives_the_torch_entities_and_caches_outside_the_model(
    tiny_model_dir: Path, cache_dir: Path
) -> None:
    pytest.importorskip("onnxruntime", reason="the onnx backend is the optional extra bnner-tui[fast]")
    pytest.importorskip("onnx", reason="the onnx backend is the optional extra bnner-tui[fast]")
    before = _model_files(tiny_model_dir)
    ref = Tagger.load(tiny_model_dir, device="cpu")
    fast = Tagger.load(tiny_model_dir, backend="onnx")
    assert fast.forward is not None and ref.forward is None
    for agg in ("first", "average"):
        a = ref.tag_batch(_TEXTS, batch_size=3, aggregation=agg)
        b = fast.tag_batch(_TEXTS, batch_size=3, aggregation=agg)
        assert [_spans(r) for r in b] == [_spans(r) for r in a]  # scores agree to float rounding only
        assert [[w.label for w in r.words] for r in b] == [[w.label for w in r.words] for r in a]
    words = [t.split() for t in _TEXTS]
    for pa, pb in zip(ref.predict_word_probs(words), fast.predict_word_probs(words), strict=True):
        np.testing.assert_allclose(pa, pb, atol=1e-4)
    assert _model_files(tiny_model_dir) == before  # the user's model folder is never written
    (exported,) = list(cache_dir.rglob("model.onnx"))
    assert exported == tag_backends.onnx_path(tiny_model_dir)
    mtime = exported.stat().st_mtime_ns
    Tagger.load(tiny_model_dir, backend="onnx")  # the second load reuses the export
    assert exported.stat().st_mtime_ns == mtime
    assert not [p for p in exported.parent.iterdir() if p.name.endswith(".tmp")]


def test_cache_key_changes_when_the_weights_change(tiny_model_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    key = tag_backends.model_key(copy)
    assert tag_backends.model_key(copy) == key
    weights = next(p for p in copy.iterdir() if p.suffix == ".safetensors")
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert tag_backends.model_key(copy) != key


def test_missing_onnxruntime_is_one_sentence(
    tiny_model_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_ort(name: str, *args: object, **kwargs: object) -> object:
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ort)
    with pytest.raises(BnnerError, match=r"bnner-tui\[fast\]"):
        Tagger.load(tiny_model_dir, backend="onnx")
    assert not cache_dir.exists()


def test_bad_backend_and_onnx_with_quantize_are_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(BnnerError, match="backend must be one of torch, onnx"):
        Tagger.load(tiny_model_dir, backend="tensorrt")
    with pytest.raises(BnnerError, match="onnx backend runs fp32"):
        Tagger.load(tiny_model_dir, backend="onnx", quantize=True)
