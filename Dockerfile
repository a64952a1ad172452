# FinkraftAI API image: `finkraft serve` on 0.0.0.0:8000 (uvicorn workers: FINKRAFT_WORKERS).
# Not built on the machine this was written on (no Docker engine there): see docs/DEPLOYMENT.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    LANGSMITH_TRACING=false \
    FINKRAFT_DATA_DIR=/data \
    FINKRAFT_WORKERS=2

WORKDIR /app

# torch first, the CPU build from PyTorch's CPU index: an unpinned torch from PyPI drags in
# multi-GB CUDA wheels. (If 2.13.0 is not on that index for your platform, pin the CPU build
# you use, and the same in pyproject.toml.)
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# dependencies before the code, so code changes do not reinstall them
COPY pyproject.toml README.md ./
# (with the `torch` extra: the embedding model's one-time ONNX export runs on first start, into /data/models)
RUN python - <<'PY' > /tmp/requirements.txt
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for dep in project["dependencies"] + project["optional-dependencies"]["torch"]:
    print(dep)
PY
RUN pip install -r /tmp/requirements.txt

COPY business_data ./business_data
COPY tools ./tools
COPY memory ./memory
COPY graph ./graph
COPY server ./server
COPY langgraph.json ./
RUN pip install --no-deps . \
 && useradd --create-home --uid 10001 finkraft \
 && mkdir -p /data && chown finkraft /data

USER finkraft
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"

# exec: uvicorn is PID 1 and gets SIGTERM (graceful shutdown of every worker)
CMD ["sh", "-c", "exec finkraft serve --host 0.0.0.0 --port 8000 --workers \"${FINKRAFT_WORKERS}\""]
