// Helper of bleu_test: reads "hypothesis<TAB>reference" lines from a file and prints the corpus BLEU and
// each line's 13a tokenization.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tasks/metrics/bleu.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream in(argv[1]);
  std::vector<std::string> hyps, refs;
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) return 1;
    hyps.push_back(line.substr(0, tab));
    refs.push_back(line.substr(tab + 1));
  }
  for (const std::string& h : hyps) std::printf("TOK %s\n", onemodel::metrics::Tokenize13a(h).c_str());
  std::printf("BLEU %.10f\n", onemodel::metrics::CorpusBleu(hyps, refs).score);
  return 0;
}
