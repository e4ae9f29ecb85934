# The Unconf image: dependencies installed at build time, so a container starts without pip.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are part of the image (whitenoise serves them); the key is only for this step.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && useradd --system --no-create-home --uid 10001 unconf
USER unconf

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "unconf.asgi:application"]
