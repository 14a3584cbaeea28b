# The shop's image: web (gunicorn) and worker (celery) run from it; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 shop

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=shop:shop . .
# collectstatic needs settings, not servers: the URLs are well-formed placeholders and nothing connects.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost DJANGO_VERIFY_SERVICES=false \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

USER shop
EXPOSE 8000
# WEB_CONCURRENCY (processes, 3), GUNICORN_BIND, GUNICORN_TIMEOUT: config/gunicorn_conf.py
CMD ["gunicorn", "-c", "python:config.gunicorn_conf", "config.wsgi"]
