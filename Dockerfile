# newsbot's container image. Anywhere with a registry: `docker build -t newsbot .` (or `docker compose up`,
# see compose.yaml); `make image` builds it with podman where no registry is reachable (container/build.sh).
# The bot runs as uid 10001, keeps its database on the /data volume, answers its HEALTHCHECK on
# HTTP_LISTEN's /healthz, and stops cleanly on SIGTERM (it is PID 1: exec-form ENTRYPOINT).
ARG BASE=python:3.11-slim

# ---- python: the base, with Debian's Python 3.11 only where the base has none (a bare Debian) ----
FROM ${BASE} AS python
RUN if ! command -v python3 >/dev/null 2>&1; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 ca-certificates \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    fi

# ---- build: a venv with newsbot's wheel and its dependencies ----
FROM python AS build
RUN python3 -c 'import ensurepip' 2>/dev/null || { \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
        && rm -rf /var/lib/apt/lists/*; }
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
# Dependencies first (their layer is reused until pyproject.toml changes), with the build backend.
# Two optional build-only secrets, not needed with public PyPI and never left in the image: `ca_certs`
# (extra PEM CA certificates, e.g. of a TLS-intercepting proxy) and `pip_conf` (a pip.conf naming another
# package index), e.g. `docker build --secret id=ca_certs,src=proxy-ca.pem .`
RUN --mount=type=secret,id=ca_certs --mount=type=secret,id=pip_conf \
    set -e; \
    if [ -s /run/secrets/ca_certs ]; then \
        cat /etc/ssl/certs/ca-certificates.crt /run/secrets/ca_certs > /tmp/ca.pem; export PIP_CERT=/tmp/ca.pem; \
    fi; \
    if [ -s /run/secrets/pip_conf ]; then export PIP_CONFIG_FILE=/run/secrets/pip_conf; fi; \
    python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /tmp/requirements.txt; \
    /opt/venv/bin/pip install -r /tmp/requirements.txt 'setuptools>=77'; \
    rm -f /tmp/ca.pem /tmp/requirements.txt
COPY README.md ./
COPY bot ./bot
COPY migrations ./migrations
# The wheel holds the `bot` package only; the numbered migrations are read from beside it (bot/adapters/db.py
# looks two levels above itself), so they are copied next to the installed package.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation . \
    && site=$(cd / && /opt/venv/bin/python -c 'import bot, pathlib; print(pathlib.Path(bot.__file__).parents[1])') \
    && cp -r migrations "$site/migrations" \
    && /opt/venv/bin/pip uninstall -y setuptools pip

# ---- runtime: Python, the venv, a non-root user and the /data volume ----
FROM python AS runtime
RUN groupadd --gid 10001 newsbot \
    && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin newsbot \
    && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
COPY container/healthcheck.py /opt/newsbot/healthcheck.py
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/newsbot.db \
    HTTP_LISTEN=0.0.0.0:8080 \
    LOG_FORMAT=json
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/newsbot/healthcheck.py"]
ENTRYPOINT ["newsbot"]
CMD ["run"]
