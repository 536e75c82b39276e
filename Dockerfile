# Chợ 4.0 service image: slim Python, non-root user, SQLite on the /data volume by default
# (compose.yaml runs it on PostgreSQL), migrations at start, the first admin from
# CHO_ADMIN_USERNAME / CHO_ADMIN_PASSWORD, health check. README.md, "Docker", says how to run it.
# (Build where a Docker engine exists; CI machines have none: tests/test_deploy_files.py checks
# this file and compose.yaml against the code.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/cho.db \
    CHO_DATA_DIR=/data/files

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 cho \
    && mkdir /data && chown cho:cho /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY market ./market
COPY api ./api
COPY qr ./qr
COPY simulator ./simulator
COPY planner ./planner
COPY web ./web
RUN pip install .

USER cho
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
    CMD curl -fsS http://127.0.0.1:8000/health || exit 1

# `cho db upgrade` runs the migrations, then `cho serve` creates the first admin when
# CHO_ADMIN_USERNAME and CHO_ADMIN_PASSWORD are set (once; a restart changes nothing) and starts
# two workers.
CMD ["sh", "-c", "cho db upgrade && cho serve --host 0.0.0.0 --port 8000 --workers 2"]
