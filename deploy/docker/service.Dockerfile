# syntax=docker/dockerfile:1
#
# One image recipe for every Kamu service; SERVICE picks which (pairing, meetings, goals,
# notifications) and PORT its default port. The build context is the repository root:
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=goals --build-arg PORT=8003 -t kamu-goals .

# Both stages must use the same interpreter: the venv built in one runs on the other's Python.
ARG PYTHON_IMAGE=python:3.11-slim
ARG SERVICE
ARG PORT=8000

# ---- build: the locked environment, installed into /app/.venv --------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE

# uv from the Python package index, pinned to the version ./kamu uses.
RUN pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore "uv==0.13.9"

ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /src

# Every workspace member's pyproject.toml, so uv sees the same workspace that uv.lock was made
# from. deploy/local (dev tooling) and the other services are never installed here.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY deploy/local/pyproject.toml deploy/local/
COPY services/pairing/pyproject.toml services/pairing/
COPY services/meetings/pyproject.toml services/meetings/
COPY services/goals/pyproject.toml services/goals/
COPY services/notifications/pyproject.toml services/notifications/

# Third-party dependencies only; this layer is reused until uv.lock or a pyproject.toml changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package kamu-${SERVICE} --no-install-workspace --no-editable

# Then the workspace packages this service needs (kamu-shared and its own), installed as wheels
# (--no-editable) so the venv does not point back at /src and can be copied alone.
COPY shared/src shared/src
COPY services/${SERVICE}/src services/${SERVICE}/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package kamu-${SERVICE} --no-editable

# ---- runtime: the venv and nothing else -------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG PORT

# A fixed numeric uid: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 kamu \
 && useradd --system --uid 10001 --gid kamu --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin kamu

# Left owned by root: the service cannot change its own code.
COPY --from=build /app/.venv /app/.venv

# Bytecode was compiled at build time; the root filesystem may be read-only at run time.
ENV PATH=/app/.venv/bin:$PATH \
    KAMU_SERVICE=${SERVICE} \
    KAMU_HTTP_HOST=0.0.0.0 \
    KAMU_HTTP_PORT=${PORT} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app
USER 10001:10001
EXPOSE ${PORT}

# Liveness only: /healthz answers while the process serves HTTP. Readiness (/readyz, which needs
# PostgreSQL and Kafka) is probed by compose and Kubernetes themselves. No curl in slim images.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["sh", "-c", "python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:$KAMU_HTTP_PORT/healthz', timeout=4)\""]

# Host and port come from KAMU_HTTP_HOST and KAMU_HTTP_PORT (settings), so they can be changed
# without a new image. The same image will also run `worker` and `relay` (later issues).
CMD ["sh", "-c", "exec python -m \"kamu_$KAMU_SERVICE\" api"]
