# The Majestic image: one image, two commands (the Procfile's), as compose.yaml and
# docs/deploy.md run it:
#   gateway  gunicorn -c config/gunicorn.py config.asgi:application   (the default CMD)
#   relay    python manage.py relay_events
# Not built in CI here (no container engine on that machine): `make lint` runs hadolint on this
# file, and tests/stack/test_packaging.py holds it and compose.yaml to the Procfile.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the pinned dependencies in a virtualenv, the static files collected --------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /app
# The project installs no package of its own (pyproject's packages = []): this layer holds the
# pinned dependencies only, and is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN /opt/venv/bin/pip install . \
    && /opt/venv/bin/pip uninstall --yes pip setuptools
COPY . .
# collectstatic reads the settings, which outside production want a SECRET_KEY: this one lives for
# this command only (no layer keeps it, and the development key file is never written).
RUN SECRET_KEY="collectstatic-$(date +%s%N)-build-only" \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && /opt/venv/bin/python -m compileall -q /app

# --- runtime: no compiler, no pip, the code read-only to the user that runs it ---------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    EVENTS_RELAY_IN_PROCESS=0
RUN groupadd --system --gid 10001 majestic \
    && useradd --system --uid 10001 --gid majestic --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin majestic
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Liveness: /healthz answers 200 while the process serves and its database answers. The relay
# service, from the same image, has no HTTP server: compose.yaml and its ECS task turn this off.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.asgi:application"]
