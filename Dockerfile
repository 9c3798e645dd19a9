# Asgard in a container: slim Python, a non-root user, `asgard serve`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements ./requirements
# the locked packages first, with their hashes: the image holds what was tested
RUN pip install --no-cache-dir --require-hashes -r requirements/bootstrap.txt \
 && pip install --no-cache-dir --require-hashes --no-deps --prefix=/install -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY asgard ./asgard
RUN pip install --no-cache-dir --no-deps --no-build-isolation --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 asgard && mkdir /data && chown asgard /data
COPY --from=build /install /usr/local
USER asgard
WORKDIR /data
ENV ASGARD_HOST=0.0.0.0 \
    ASGARD_PORT=4898 \
    ASGARD_DATA_DIR=/data \
    ASGARD_DB_URL=sqlite+aiosqlite:////data/asgard.db \
    ASGARD_LOG_FORMAT=json
EXPOSE 4898
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:4898/health').status != 200)"
CMD ["asgard", "serve"]
