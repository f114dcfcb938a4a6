"""Our corpus WER and CER against jiwer (PyPI) on the same pairs."""
import subprocess
import sys

import jiwer

PAIRS = [  # (reference, hypothesis)
    ("one two three four", "one too three"),
    ("please enter your  account number", " please enter account number now "),
    ("zürich is lovely", "zurich is lovely"),
    ("five five five", "five five five"),
    ("the number you have dialed", ""),
    ("a", "a b c d"),
]


def main(tool, tmp):
    path = f"{tmp}/pairs.tsv"
    with open(path, "w", encoding="utf-8") as f:
        for r, h in PAIRS:
            f.write(f"{r}\t{h}\n")
    out = dict(l.split() for l in subprocess.run([tool, path], capture_output=True, text=True, check=True).stdout.splitlines())
    refs, hyps = [r for r, _ in PAIRS], [h for _, h in PAIRS]
    wer, cer = jiwer.wer(refs, hyps), jiwer.cer(refs, hyps)
    assert abs(float(out["WER"]) - wer) < 1e-9, f"WER ours {out['WER']}, jiwer {wer}"
    assert abs(float(out["CER"]) - cer) < 1e-9, f"CER ours {out['CER']}, jiwer {cer}"
    print(f"WER {wer:.6f} and CER {cer:.6f} equal jiwer's")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
