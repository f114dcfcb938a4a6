"""Reference for model/ctc_lexicon_decoder_bench: flashlight's LexiconDecoder (PyPI flashlight-text) on the problem
the benchmark wrote to --dir (lexicon.txt: "word label label ..."; frames.txt: frames per utterance; emissions.f32:
their [frames, classes] log-probabilities, float32). No language model (ZeroLM), alignments summed (log_add), every
label tried at every frame, no score threshold: the search the benchmark runs. Writes words_<beam>.txt (each
utterance's word ids) and prints "FLASHLIGHT beam=B ms_per_utterance=M" per beam."""
import argparse
import os
import time

import numpy as np
from flashlight.lib.text.decoder import (CriterionType, LexiconDecoder, LexiconDecoderOptions, SmearingMode, Trie,
                                         ZeroLM)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--classes", type=int, required=True)
    parser.add_argument("--blank", type=int, required=True)
    parser.add_argument("--boundary", type=int, required=True)
    parser.add_argument("--beams", required=True)
    args = parser.parse_args()

    trie = Trie(args.classes, args.boundary)
    words = 0
    with open(os.path.join(args.dir, "lexicon.txt")) as f:
        for line in f:
            word, *labels = (int(x) for x in line.split())
            trie.insert(labels, word, 0.0)
            words = max(words, word + 1)
    trie.smear(SmearingMode.MAX)
    frames = [int(x) for x in open(os.path.join(args.dir, "frames.txt"))]
    emissions = np.fromfile(os.path.join(args.dir, "emissions.f32"), dtype=np.float32)
    starts = np.cumsum([0] + frames[:-1]) * args.classes
    utterances = [np.ascontiguousarray(emissions[s:s + t * args.classes]) for s, t in zip(starts, frames)]

    for beam in (int(b) for b in args.beams.split(",")):
        options = LexiconDecoderOptions(beam_size=beam, beam_size_token=args.classes, beam_threshold=1e9,
                                        lm_weight=0.0, word_score=0.0, unk_score=float("-inf"), sil_score=0.0,
                                        log_add=True, criterion_type=CriterionType.CTC)
        decoder = LexiconDecoder(options, trie, ZeroLM(), args.boundary, args.blank, words, [], False)
        out = []
        start = time.perf_counter()
        for u, t in zip(utterances, frames):
            result = decoder.decode(u.ctypes.data, t, args.classes)
            out.append(" ".join(str(w) for w in result[0].words if w >= 0) if result else "")
        seconds = time.perf_counter() - start
        with open(os.path.join(args.dir, f"words_{beam}.txt"), "w") as f:
            f.write("\n".join(out) + "\n")
        print(f"FLASHLIGHT beam={beam} ms_per_utterance={1000 * seconds / len(utterances):.4f}", flush=True)


if __name__ == "__main__":
    main()
