"""The request-path limit: a hello-world Django view, served by Daphne like the product.

Settings, URLconf and view in one module; run with
`DJANGO_SETTINGS_MODULE=bench.load.hello_settings daphne bench.load.hello_asgi:application`.
No middleware, no database: what is left is Django's and Daphne's own cost per request.
"""

from django.http import HttpResponse
from django.urls import path

SECRET_KEY = "bench-hello-world-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = __name__
DATABASES: dict = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}


def hello(request):
    return HttpResponse(b"Hello, world", content_type="text/plain")


urlpatterns = [path("", hello)]
