#!/usr/bin/env bash
# Makes a Python environment with the current PyTorch and flashlight-text from PyPI for the peer benchmarks (never
# for CI: the wheel and the CUDA libraries it links need ~1.2 GB). PyPI's Linux wheel is a CUDA build; on a
# machine without a GPU it runs on the CPU once its CUDA libraries load: the toolkit libraries come from
# /usr/local/cuda, and the few the toolkit lacks or has too old come from their PyPI wheels.
# Prints the path of a wrapper to use as ONEMODEL_TORCH_PYTHON.
set -euo pipefail
TORCH=torch==2.15.0
EXTRA=(nvidia-cusparselt-cu13==0.8.1 nvidia-nvshmem-cu13==3.7.2 nvidia-cufile==1.20.0.107 nvidia-nccl-cu13==2.30.7)
PURE=(filelock typing-extensions sympy networkx jinja2 fsspec numpy==1.26.4)
# The lexicon decoder's peer (model/ctc_lexicon_decoder_bench): flashlight's, as torchaudio and fairseq use it.
FLASHLIGHT=flashlight-text==0.0.7
venv="${ONEMODEL_TORCH_VENV:-$HOME/.cache/onemodel/torch-venv}"
if ! [[ -x "$venv/bin/python" ]] || ! "$venv/bin/pip" show torch flashlight-text >/dev/null 2>&1; then
  echo "setup_torch: installing $TORCH into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$TORCH" "${EXTRA[@]}" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "${PURE[@]}" "$FLASHLIGHT" >&2
fi
wrapper="$venv/bin/torch-python"
libs=$(find "$venv"/lib/python3*/site-packages/nvidia -name lib -type d | tr '\n' ':')
cat > "$wrapper" <<WRAP
#!/usr/bin/env bash
export LD_LIBRARY_PATH="${libs}/usr/local/cuda/lib64\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$venv/bin/python" "\$@"
WRAP
chmod +x "$wrapper"
"$wrapper" -c "import torch" >&2
echo "$wrapper"
