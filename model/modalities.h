// Modality nets (Kaiser et al. 2017 §2.1): small networks that map one kind of data into the trunk's
// d-dimensional sequence space and back out of it. Several tasks share one modality net when they share a
// modality (both translation directions share the subword embedding).
#ifndef ONEMODEL_MODEL_MODALITIES_H_
#define ONEMODEL_MODEL_MODALITIES_H_

#include <cstdint>
#include <vector>

#include "core/module.h"

namespace onemodel::model {

// A one-channel plane [B, H, W] (H and W multiples of 8 minus at most 4) -> [B, ceil(H/8), ceil(W/8), out]: a full
// 3x3 convolution (relu after it) whose kernels are factored into separable parts (9 depthwise 3x3 filters of the
// value, mixed pointwise), then three stride-2 separable blocks (relu(LN(.))). The image and audio modalities'
// front end. With `last_row_stride` 1 the third block strides the columns only: [B, ceil(H/4), ceil(W/8), out].
class StridedConvStack : public Module {
 public:
  StridedConvStack(int64_t channels, int64_t out, uint64_t seed, uint16_t layer, int64_t last_row_stride = 2);
  // `rows` (empty: all H) holds each plane's real rows; the rows after them are padding, zeroed before every block
  // so that they read as the convolutions' own zero padding: the real rows' outputs (the first ceil(rows / 8)) do
  // not depend on how much padding follows.
  Tensor Forward(const Tensor& plane, const std::vector<int64_t>& rows = {}) const;

 private:
  struct Stem : public Module {
    Stem(int64_t channels, uint64_t seed, uint16_t layer);
    Tensor Forward(const Tensor& plane, const std::vector<int64_t>& rows) const;
    Tensor depthwise, pointwise, bias;  // [3, 3, 9], [9, channels], [channels]
  };
  struct Block : public Module {
    Block(int64_t in, int64_t out, int64_t row_stride, int64_t column_stride, uint64_t seed, uint16_t layer);
    Tensor Forward(const Tensor& x) const;
    int64_t row_stride, column_stride;
    Tensor depthwise, pointwise, bias, gamma, beta;
  };
  Stem stem_;
  Block down1_, down2_, down3_;
};

// Images [B, H, W] (gray, in [0, 1]; e.g. 28 x 28) -> [B, ceil(H/8) * ceil(W/8), d] patch features.
class ImageModality : public Module {
 public:
  ImageModality(int64_t channels, int64_t dim, uint64_t seed, uint16_t layer);
  Tensor Forward(const Tensor& images) const;

 private:
  StridedConvStack stack_;
};

// Audio as log-mel frames [B, T, mels] (normalized per utterance) -> [B, ceil(T/s), d] for a frame stride s of 8
// or 4: the strided stack over time x frequency (positions of 80 or 40 ms at a 10 ms hop; the bands always 8x
// fewer), each position's frequency bands and channels projected to d.
class AudioModality : public Module {
 public:
  AudioModality(int64_t channels, int64_t mels, int64_t dim, int64_t frame_stride, uint64_t seed, uint16_t layer);
  // `frames` (empty: all T) holds each utterance's frames before its padding; see StridedConvStack::Forward.
  Tensor Forward(const Tensor& features, const std::vector<int64_t>& frames = {}) const;
  int64_t mels() const { return mels_; }
  // Encoder positions that `frames` frames become at frame stride `stride` (each stride-2 block halves the frames,
  // rounding up).
  static int64_t Positions(int64_t frames, int64_t stride) { return (frames + stride - 1) / stride; }
  int64_t Positions(int64_t frames) const { return Positions(frames, frame_stride_); }

 private:
  StridedConvStack stack_;
  int64_t mels_, frame_stride_;
  Tensor projection, bias;
};

// Subword ids <-> the trunk. The embedding table [V, d] also is the output softmax (tied weights): inputs are
// table rows times sqrt(d); output logits are h table^T.
class SymbolModality : public Module {
 public:
  SymbolModality(int64_t vocab, int64_t dim, uint64_t seed, uint16_t layer);
  Tensor Embed(const Tensor& ids) const;    // [B, T] i64 -> [B, T, d]
  Tensor Logits(const Tensor& h) const;     // [..., d] -> [..., V]
  int64_t vocab() const { return table.dim(0); }

  Tensor table;
};

// Class labels: the decoder's outputs [B, T, d] averaged over positions, then a linear layer -> [B, classes].
class ClassLabelModality : public Module {
 public:
  ClassLabelModality(int64_t classes, int64_t dim, uint64_t seed, uint16_t layer);
  Tensor Logits(const Tensor& h) const;

  Tensor weight, bias;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_MODALITIES_H_
