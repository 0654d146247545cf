# One image for the code location, the webserver and the daemon (as Dagster's deploy_docker
# example). Configuration comes from the environment (.env.example), never from the image.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home

WORKDIR /opt/dagster/app
COPY pyproject.toml README.md ./
COPY archiver_dagster ./archiver_dagster
RUN pip install . dagster-postgres==0.29.27

COPY workspace.yaml ./
COPY dagster.yaml ${DAGSTER_HOME}/dagster.yaml
COPY docker/entrypoint.sh /usr/local/bin/archiver-entrypoint

RUN useradd --system --uid 1000 archiver && mkdir -p ${DAGSTER_HOME} \
    && chown -R archiver ${DAGSTER_HOME}
USER archiver

EXPOSE 4000 3000
ENTRYPOINT ["archiver-entrypoint"]
# The code location server; override with `dagster-webserver -h 0.0.0.0 -p 3000 -w workspace.yaml`
# or `dagster-daemon run` for the other two services.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "archiver_dagster.definitions"]
