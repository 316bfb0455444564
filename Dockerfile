# MES Suite application image: the web application (default command), the `mes` command and the worker.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 mes \
    && useradd --system --uid 10001 --gid mes --home-dir /home/mes --create-home --shell /usr/sbin/nologin mes

WORKDIR /app

# Dependencies first, in their own layer, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, editable: platform_core finds the migrations/ folder beside it.
COPY . .
RUN pip install --no-cache-dir -e . \
    && if [ -d platform_core/translations ] && find platform_core/translations -name '*.po' | grep -q .; then \
           pybabel compile -d platform_core/translations; \
       fi \
    && mkdir -p /app/var \
    && chown mes:mes /app/var

USER mes

EXPOSE 8000

# Worker processes: set WEB_CONCURRENCY (read by gunicorn).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "platform_core.wsgi:app"]
