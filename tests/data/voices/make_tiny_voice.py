#!/usr/bin/env python3
"""Write ``tiny.onnx`` + ``tiny.onnx.json``: a Piper voice small enough to commit.

The graph has Piper's real interface (inputs ``input`` int64 [1, N] phoneme ids,
``input_lengths`` int64 [1], ``scales`` float32 [3] = noise, length, noise_w; output audio
float32 [1, 1, T]) and sings a 220 Hz tone lasting ``N × hop_length × length_scale``
samples, so tests can check that text length and speaking rate reach the model. The config
is a normal Piper config for Vietnamese (espeak voice ``vi``, piper's default phoneme map).

    .venv/bin/python tests/data/voices/make_tiny_voice.py   # needs the onnx package (dev only)
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent
SAMPLE_RATE = 16000
HOP = 256
FREQ = 220.0


def build() -> onnx.ModelProto:
    c = helper.make_tensor
    nodes = [
        helper.make_node("Shape", ["input"], ["shape"]),
        helper.make_node("Gather", ["shape", "one_i"], ["n"], axis=0),
        helper.make_node("Cast", ["n"], ["n_f"], to=TensorProto.FLOAT),
        helper.make_node("Gather", ["scales", "one_i"], ["length_scale"], axis=0),
        helper.make_node("Mul", ["n_f", "hop"], ["samples"]),
        helper.make_node("Mul", ["samples", "length_scale"], ["limit"]),
        helper.make_node("Range", ["zero", "limit", "one_f"], ["t"]),
        helper.make_node("Mul", ["t", "omega"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["wave"]),
        helper.make_node("Mul", ["wave", "amp"], ["quiet"]),
        helper.make_node("Reshape", ["quiet", "out_shape"], ["output"]),
    ]
    inits = [
        c("one_i", TensorProto.INT64, [], [1]),
        c("hop", TensorProto.FLOAT, [], [float(HOP)]),
        c("zero", TensorProto.FLOAT, [], [0.0]),
        c("one_f", TensorProto.FLOAT, [], [1.0]),
        c("omega", TensorProto.FLOAT, [], [2 * math.pi * FREQ / SAMPLE_RATE]),
        c("amp", TensorProto.FLOAT, [], [0.5]),
        c("out_shape", TensorProto.INT64, [3], [1, 1, -1]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_piper_voice",
        inputs=[helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
                helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
                helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3])],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "samples"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="vnreader")
    model.ir_version = 8  # loadable by older onnxruntime releases too
    onnx.checker.check_model(model)
    return model


def config() -> dict:
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    return {
        "audio": {"sample_rate": SAMPLE_RATE},
        "espeak": {"voice": "vi"},
        "phoneme_type": "espeak",
        "num_symbols": 256,
        "num_speakers": 1,
        "inference": {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8},
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
        "hop_length": HOP,
        "language": {"code": "vi_VN"},
        "dataset": "tiny",
    }


def main() -> None:
    onnx.save(build(), HERE / "tiny.onnx")
    (HERE / "tiny.onnx.json").write_text(json.dumps(config(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'tiny.onnx'} ({(HERE / 'tiny.onnx').stat().st_size} bytes) and tiny.onnx.json")


if __name__ == "__main__":
    main()
