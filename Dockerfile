# backcheck: one image for every platform — `backcheck telegram`, `backcheck slack`,
# `backcheck teams` and `backcheck web` (see docker-compose.yml) — and the operator's commands.
#
# The base image is pinned to its full version and Debian release, in one place for both
# stages. Pin it by digest too where you build (this repository was made on a machine
# with no registry access to read one):
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm    # -> sha256:...
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:... .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# Build the wheel from pyproject.toml and bot/ only, with the build backend exactly as
# locked (setuptools, version and hashes: requirements-build.lock), not whatever is newest.
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY requirements-build.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-build.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

# Run: the installed package and its dependencies (no [dev] extras, no tests, no sources),
# the flows and the locales it reads from BACKCHECK_ROOT, and a user that is not root.
FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BACKCHECK_ROOT=/app \
    HEALTHCHECK_PORT=8080
# Dependencies exactly as locked (versions and hashes, requirements.lock), then backcheck.
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --require-hashes -r /tmp/requirements.lock \
 && pip install --no-deps /wheels/*.whl \
 && rm -rf /wheels /tmp/requirements.lock \
 && useradd --system --uid 10001 --create-home --home-dir /home/backcheck backcheck
WORKDIR /app
COPY flows ./flows
COPY locales ./locales
USER backcheck
# Healthy when /healthz answers 200 on HEALTHCHECK_PORT: 8080 is `backcheck web`'s
# default; set it to the port that serves /healthz for the other bots (compose's own
# health checks say which, per service).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['HEALTHCHECK_PORT'] + '/healthz', timeout=3)"]
ENTRYPOINT ["backcheck"]
CMD ["--help"]
