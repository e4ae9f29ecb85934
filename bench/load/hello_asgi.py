"""ASGI entry point of the hello-world baseline (see hello_settings)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.hello_settings")
application = get_asgi_application()
