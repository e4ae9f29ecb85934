"""HTML pages: thin views that hand data to templates (JS reads it via json_script)."""

from django.http import JsonResponse
from django.shortcuts import render

from .errors import error_body


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(error_body("Something went wrong on our side.", "server_error"), status=500)
    return render(request, "500.html", status=500)
