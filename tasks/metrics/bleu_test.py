"""Our corpus BLEU and 13a tokenization against sacrebleu (PyPI) on the same pairs."""
import subprocess
import sys

import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

PAIRS = [
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("Der Hund läuft schnell, sehr schnell!", "Der Hund rennt schnell, sehr schnell!"),
    ("It costs 1,000.50 dollars - or 3-4 euros.", "It costs 1,000.50 dollars - about 3-4 euros."),
    ("A &amp; B &quot;quoted&quot; (yes) [no] {maybe} @home #1 50% a/b", "A & B \"quoted\" (yes) [no] {maybe} @home #1 50% a/b"),
    ("short", "a much longer reference sentence here"),
    ("", "empty hypothesis"),
    ("completely different words", "nothing in common at all"),
    ("Zürich ist schön.Wirklich.", "Zürich ist schön. Wirklich."),
]


def main(tool, tmp):
    path = f"{tmp}/pairs.tsv"
    with open(path, "w", encoding="utf-8") as f:
        for h, r in PAIRS:
            f.write(f"{h}\t{r}\n")
    out = subprocess.run([tool, path], capture_output=True, text=True, check=True).stdout.splitlines()
    toks = [l[4:] for l in out if l.startswith("TOK ")]
    ours = float([l for l in out if l.startswith("BLEU ")][0].split()[1])
    tokenizer = Tokenizer13a()
    for (h, _), t in zip(PAIRS, toks):
        assert t == tokenizer(h), f"tokenization of {h!r}: ours {t!r}, sacrebleu {tokenizer(h)!r}"
    theirs = sacrebleu.corpus_bleu([h for h, _ in PAIRS], [[r for _, r in PAIRS]]).score
    assert abs(ours - theirs) < 1e-6, f"BLEU ours {ours}, sacrebleu {theirs}"
    # A corpus with no 4-gram match at all exercises the exp smoothing.
    subset = PAIRS[4:7] + [("completely different words here", "completely different words there now")]
    with open(path, "w", encoding="utf-8") as f:
        for h, r in subset:
            f.write(f"{h}\t{r}\n")
    out = subprocess.run([tool, path], capture_output=True, text=True, check=True).stdout.splitlines()
    ours_small = float([l for l in out if l.startswith("BLEU ")][0].split()[1])
    theirs_small = sacrebleu.corpus_bleu([h for h, _ in subset], [[r for _, r in subset]]).score
    assert abs(ours_small - theirs_small) < 1e-6, f"BLEU ours {ours_small}, sacrebleu {theirs_small}"
    assert theirs_small > 0, "the small corpus must have matches for the smoothing to matter"
    print(f"BLEU {ours:.4f} == sacrebleu {theirs:.4f}; small corpus {ours_small:.4f} == {theirs_small:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
