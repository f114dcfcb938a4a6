// The MultiModel: modality nets around the shared trunk (DESIGN §5). Each task names its input and output
// modality; tasks with the same vocabulary share one symbol modality, every task has its own learned task token
// (the "To-German" token that starts decoding) and class-label tasks their own classifier head.
#ifndef ONEMODEL_MODEL_MULTIMODEL_H_
#define ONEMODEL_MODEL_MULTIMODEL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "configs/experiment.pb.h"
#include "core/module.h"
#include "core/ops/matmul.h"
#include "model/batch.h"
#include "model/decoding.h"
#include "model/modalities.h"
#include "model/trunk.h"

namespace onemodel::model {

enum class InputModality { kImage, kSymbols, kAudio };
enum class OutputModality { kClassLabel, kSymbols };

// What the model needs to know of a task.
struct TaskHead {
  std::string task;  // keys the task token and the class-label head
  InputModality input = InputModality::kSymbols;
  OutputModality output = OutputModality::kSymbols;
  int64_t classes = 0;         // class-label output
  std::string vocabulary;      // symbol input/output: the shared vocabulary's name
  int64_t vocab_size = 0;
  int64_t mels = 0;            // audio input: log-mel bands per frame
  // Audio input, symbol output: weight of the CTC loss on the encoder states (0: none). The encoder's states go
  // through the tied output softmax, whose padding column becomes CTC's blank with a logit of its own (a learned
  // vector: the padding embedding the decoder reads is not trained as a blank); joint CTC-attention training
  // (Kim et al. 2017) makes the encoder align frames to subwords monotonically, which attention alone learns slowly.
  float ctc_weight = 0.f;
  // Audio input: weight of a second CTC loss on the encoder states, over labels of the task's own
  // (Batch::ctc_labels, e.g. the transcript's dictionary phonemes), read through a linear head of its own. Each encoder
  // position emits kAuxCtcSlots labels (upsampled CTC, Libovický & Helcl 2018): an 80 ms position is too coarse
  // for one phoneme each. Phonemes are shared by every word, so the encoder learns sounds a rare word's subwords
  // alone would not teach it (hierarchical multitask CTC, Krishna et al. 2018).
  float aux_ctc_weight = 0.f;
  int64_t aux_ctc_classes = 0;  // the auxiliary labels + CTC's blank (id 0)
  // Symbol output: whether the attention decoder trains on (and can decode) this task. Without it an audio task
  // trains its encoder through its CTC losses alone (at least one of them, each per target token) and is decoded
  // from its auxiliary CTC output (AuxiliaryCtcLogProbs): its steps skip the decoder and its output softmax.
  bool attention_decoder = true;
};

inline constexpr int64_t kAuxCtcSlots = 2;

struct ForwardResult {
  // The task's mean cross-entropy over real target tokens (+ ctc_weight x CTC and aux_ctc_weight x auxiliary CTC,
  // each per target token; scalar).
  Tensor loss;
  Tensor aux_loss;  // the sum of the MoE layers' auxiliary losses (scalar)
  Tensor logits;    // [B, classes], or [N, V] at the N real (not padding) target positions in row-major order
  TrunkAux aux;
  int64_t target_tokens = 0;
  int64_t positions = 0;  // sequence positions the trunk processed (encoder + decoder), for tokens/s
};

class MultiModel : public Module {
 public:
  // `config` must have passed ValidateTrunkConfig.
  // `parallel`: the MoE layers' expert and token groups when the batch is sharded over ranks (each rank then gets
  // its shard of every batch; see moe::MoeParallel).
  MultiModel(const config::TrunkConfig& config, std::vector<TaskHead> heads, uint64_t seed,
             const moe::MoeParallel& parallel = {});

  // Teacher-forced forward pass of task `task` (an index into heads()). Batches may be on the host for a model on
  // the GPU (Module::To): the passes copy what they read.
  ForwardResult Forward(int task, const Batch& batch, const RunContext& run) const;
  // Class-label tasks: the argmax class of each example.
  std::vector<int64_t> Classify(int task, const Batch& batch) const;
  // Symbol-output tasks: decoded ids per example (end-of-sentence id 2 not included). options.ctc_weight > 0
  // decodes jointly with the task's CTC output (TaskHead::ctc_weight > 0).
  std::vector<std::vector<int>> Generate(int task, const Batch& batch, const DecodeOptions& options) const;
  // Audio tasks with an auxiliary CTC loss: each example's log-softmax over that head's labels (blank 0), row-major
  // [its real positions x kAuxCtcSlots][aux_ctc_classes], for decoding without the attention decoder.
  std::vector<std::vector<float>> AuxiliaryCtcLogProbs(int task, const Batch& batch) const;

  const std::vector<TaskHead>& heads() const { return heads_; }

 private:
  struct Encoded {
    Tensor states, mask;           // [B, S, d], [B, S] (undefined: no padding)
    std::vector<int64_t> lengths;  // audio: each example's real positions (all S without frame counts)
  };
  Encoded Encode(int task, const Batch& batch, const RunContext& run, TrunkAux* aux) const;
  // Decoder states [B, T + 1, d] for the task token followed by `prefix` [B, T] (T may be 0).
  // target_mask [B, T + 1] (may be undefined): the positions the decoder's MoE routes.
  Tensor DecodeStates(int task, const Encoded& encoded, const Tensor& prefix, const RunContext& run, TrunkAux* aux,
                      const Tensor& target_mask = Tensor()) const;
  const SymbolModality& Symbols(int task) const;
  // Sum over the batch of the CTC loss of the encoder states read through the output softmax with the blank in the
  // padding column (targets: the batch's [B, T] ids, flattened; padding and end of sentence are not labels).
  Tensor EncoderCtc(int task, const Encoded& encoded, const Batch& batch, const std::vector<int64_t>& targets) const;
  // [B, S, V]: the encoder states through the output softmax with the blank's logit in the padding column.
  Tensor CtcLogits(int task, const Tensor& states) const;
  // Sum over the batch of the auxiliary CTC loss (TaskHead::aux_ctc_weight) on batch.ctc_labels.
  Tensor AuxiliaryCtc(int task, const Encoded& encoded, const Batch& batch) const;
  // [B, S x kAuxCtcSlots, aux_ctc_classes]: the auxiliary head's logits, position p's slots at frames p x slots, ...
  Tensor AuxiliaryCtcLogits(int task, const Tensor& states) const;
  // Joint CTC-attention decoding: each example's prefix scorer over its real positions.
  std::vector<CtcPrefixScorer> CtcScorers(int task, const Encoded& encoded) const;

  config::TrunkConfig config_;
  // The products' precision (config_.matmul_precision) for every pass; each backward keeps its forward's.
  ops::MatmulPrecision precision_;
  std::vector<TaskHead> heads_;
  uint64_t seed_;
  std::unique_ptr<ImageModality> image_;
  std::unique_ptr<AudioModality> audio_;
  std::map<std::string, std::unique_ptr<SymbolModality>> symbols_;
  std::map<std::string, std::unique_ptr<ClassLabelModality>> class_heads_;
  std::vector<Tensor> task_tokens_;
  Tensor ctc_blank_;  // [d, 1]: the CTC blank's logit weights (only when a task has a CTC loss)
  std::map<int, Tensor> aux_ctc_heads_;  // task -> [d, kAuxCtcSlots * aux_ctc_classes]
  Encoder encoder_;
  Mixer mixer_;
  Decoder decoder_;
};

}  // namespace onemodel::model

#endif  // ONEMODEL_MODEL_MULTIMODEL_H_
