"""Python half of safetensors_interop_test: checks what onemodel wrote, writes the fixture for it to read.

Uses the reference `safetensors` package (PyPI). The fixture is generated independently here.
"""
import math
import sys

import numpy as np
from safetensors.numpy import load_file, save_file


def fixture():
    return {
        "a": (np.array([math.sin(i) * 3 for i in range(15)], dtype=np.float32)).reshape(3, 5),
        "b": np.array([i * i - 7 for i in range(6)], dtype=np.int64),
        "c": np.array([-i for i in range(4)], dtype=np.int32).reshape(2, 2),
        "d": np.array(2.5, dtype=np.float32),
    }


def main(ours_path, theirs_path):
    loaded = load_file(ours_path)
    expected = fixture()
    assert sorted(loaded) == sorted(expected), f"names {sorted(loaded)} != {sorted(expected)}"
    for name, want in expected.items():
        got = loaded[name]
        assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != {want.dtype}"
        assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
        assert np.array_equal(got, want), f"{name}: values differ\n{got}\n{want}"
    print(f"python read {len(loaded)} tensors written by onemodel: all equal")
    save_file(expected, theirs_path, metadata={"writer": "python"})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
