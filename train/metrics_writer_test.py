"""Reads what metrics_writer_tool wrote with TensorBoard's own event reader, and the JSON lines."""
import json
import sys

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader


def main(event_file, jsonl):
    scalars = {}
    for event in EventFileLoader(event_file).Load():
        for value in event.summary.value:
            # TensorBoard's loader migrates simple_value into a tensor; read whichever is there.
            got = value.simple_value if value.HasField("simple_value") else value.tensor.float_val[0]
            scalars[(value.tag, event.step)] = got
    for step in (1, 2, 3):
        assert abs(scalars[("loss/translation", 10 * step)] - 1.0 / step) < 1e-6, scalars
        assert abs(scalars[("accuracy/vision", 10 * step)] - (0.5 + 0.1 * step)) < 1e-6, scalars
    lines = [json.loads(l) for l in open(jsonl)]
    assert [l["step"] for l in lines] == [10, 20, 30], lines
    assert abs(lines[1]["loss/translation"] - 0.5) < 1e-9, lines
    print(f"tensorboard read {len(scalars)} scalars, jsonl {len(lines)} lines: all equal")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
