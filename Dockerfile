# Chợ 4.0 service image: slim Python, non-root user, SQLite on the /data volume by default,
# migrations at start, health check. (Build where a Docker engine exists; CI machines have none.)
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
RUN pip install .

USER cho
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD curl -fsS http://127.0.0.1:8000/health || exit 1

# `cho db upgrade` runs the migrations, then the service starts (two workers).
CMD ["sh", "-c", "cho db upgrade && cho serve --host 0.0.0.0 --port 8000 --workers 2"]
