// `onemodel submit` and `onemodel submit-eval` (tools/slurm_jobs.h writes the scripts).
#ifndef ONEMODEL_TOOLS_SLURM_COMMANDS_H_
#define ONEMODEL_TOOLS_SLURM_COMMANDS_H_

#include <string>
#include <vector>

namespace onemodel {

int SubmitCommand(const std::vector<std::string>& args, const char* usage);
int SubmitEvalCommand(const std::vector<std::string>& args, const char* usage);

}  // namespace onemodel

#endif  // ONEMODEL_TOOLS_SLURM_COMMANDS_H_
