// One batch of one task, as the model takes it. Tasks build batches (tasks/), the model consumes them.
#ifndef ONEMODEL_MODEL_BATCH_H_
#define ONEMODEL_MODEL_BATCH_H_

#include <cstdint>

#include "core/tensor.h"

namespace onemodel::model {

struct Batch {
  Tensor images;     // [B, H, W] f32 in [0, 1], for image inputs
  Tensor input_ids;  // [B, S] i64, for symbol inputs; 0 is padding
  Tensor audio;      // [B, T, mels] f32 log-mel frames, for audio inputs (padded with silence)
  Tensor audio_frames;  // [B] i64: each utterance's frames before the padding (audio inputs; undefined: all T)
  Tensor targets;    // [B, T] i64: class ids [B, 1], or subword ids ending in end-of-sentence, 0-padded
  Tensor ctc_labels;  // [B, L] i64: auxiliary CTC labels (ids >= 1, 0-padded; TaskHead::aux_ctc_weight)
  int64_t size() const { return targets.dim(0); }
  // Rows [begin, end) as a batch of their own (copies), padded as in the whole batch: e.g. one rank's share.
  Batch Rows(int64_t begin, int64_t end) const {
    auto rows = [&](const Tensor& t) { return t.defined() ? t.Narrow(begin, end).Clone() : Tensor(); };
    return {rows(images), rows(input_ids), rows(audio), rows(audio_frames), rows(targets), rows(ctc_labels)};
  }
  // Every tensor copied to `device` (the model reads ids on any device).
  Batch To(Device device) const {
    auto to = [&](const Tensor& t) { return t.defined() ? t.To(device) : Tensor(); };
    return {to(images), to(input_ids), to(audio), to(audio_frames), to(targets), to(ctc_labels)};
  }
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_BATCH_H_
