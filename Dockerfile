# One image for every archiver container (as Dagster's deploy_docker example): the code location
# (default command), its runs, the webserver, the daemon and the pools step. Configuration comes
# from the environment (.env.example, deploy/compose.env.example), never from the image.
# docs/operations.md, "Deploying"; docs/architecture.md, decision 59.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home

WORKDIR /opt/dagster/app

# Exactly the versions the test suite ran with (`make lock`), with no resolver involved, then the
# package itself, built by the pinned backend; `pip check` fails the build if the set is not
# complete and consistent.
COPY deploy/requirements.lock ./requirements.lock
RUN pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY archiver_dagster ./archiver_dagster
RUN pip install --no-deps --no-build-isolation . && pip check

# The production instance (PostgreSQL, runs in containers) and the compose workspace; the Helm
# chart mounts its own instance over this file and writes its own workspace.
COPY deploy/dagster.yaml ${DAGSTER_HOME}/dagster.yaml
COPY deploy/workspace.yaml ./workspace.yaml
COPY docker/entrypoint.sh /usr/local/bin/archiver-entrypoint

# Mount points owned by the archiver's user, so that new volumes mounted there are too.
RUN groupadd --system --gid 1000 archiver \
    && useradd --system --uid 1000 --gid 1000 --no-create-home archiver \
    && mkdir -p ${DAGSTER_HOME}/storage /scratch /mnt/lts \
    && chown -R archiver:archiver ${DAGSTER_HOME} /scratch /mnt/lts
USER archiver

EXPOSE 4000 3000
ENTRYPOINT ["archiver-entrypoint"]
# The code location server. The other commands: `archiver-dagster apply-pools` (the pools step),
# `dagster-webserver -h 0.0.0.0 -p 3000 -w workspace.yaml`, `dagster-daemon run -w workspace.yaml`;
# runs get `dagster api execute_run ...` from the run launcher.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "archiver_dagster.definitions"]
