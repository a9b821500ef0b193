# One image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin secmail

# Dependencies first, so that code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p secmail partners monitoring \
    && pip install --no-cache-dir . \
    && pip uninstall --yes secmail
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
    && DEBUG=0 SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       python manage.py collectstatic --no-input --verbosity 0 \
    && rm -f /tmp/build.sqlite3 \
    && mkdir -p var && chown secmail:secmail var

USER secmail
EXPOSE 8000
# gunicorn believes X-Forwarded-* only from FORWARDED_ALLOW_IPS (default 127.0.0.1), which
# docker-compose.yml sets from SECMAIL_TRUSTED_PROXIES; never "*".
CMD ["gunicorn", "secmail.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
