# backcheck: one image for `backcheck telegram` and `backcheck slack` (see docker-compose.yml).

# Build the wheel from pyproject.toml and bot/ only.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Run: the installed package and its dependencies (no [dev] extras, no tests, no sources),
# the flows and the locales it reads from BACKCHECK_ROOT, and a user that is not root.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BACKCHECK_ROOT=/app
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
ENTRYPOINT ["backcheck"]
CMD ["--help"]
