// Helper of error_rate_test: reads "reference<TAB>hypothesis" lines and prints the corpus WER and CER.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tasks/metrics/error_rate.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::ifstream in(argv[1]);
  std::vector<std::string> refs, hyps;
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) return 1;
    refs.push_back(line.substr(0, tab));
    hyps.push_back(line.substr(tab + 1));
  }
  std::printf("WER %.12f\nCER %.12f\n", onemodel::metrics::WordErrorRate(refs, hyps).rate,
              onemodel::metrics::CharacterErrorRate(refs, hyps).rate);
  return 0;
}
