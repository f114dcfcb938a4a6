// Helper of metrics_writer_test: writes a few known scalars into DIR.
#include <cstdio>

#include "train/metrics_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto w = onemodel::MetricsWriter::Open(argv[1]);
  if (!w.ok()) return 1;
  for (int step = 1; step <= 3; ++step) {
    if (!w->Write(step * 10, {{"loss/translation", 1.0 / step}, {"accuracy/vision", 0.5 + 0.1 * step}}).ok()) return 1;
  }
  std::printf("%s\n", w->event_file().c_str());
  return 0;
}
