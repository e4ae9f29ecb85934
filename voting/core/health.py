"""GET /healthz: whether this process can serve, for a container's check and a load balancer."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone


def healthz(request):
    """200 when the database and the channel layer answer; 503 naming what is down."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["db"] = "ok"
    except Exception as error:
        checks["db"] = f"down: {error.__class__.__name__}"
    try:
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(
            "unconf.healthz", {"type": "healthz", "at": timezone.now().isoformat()}
        )
        checks["channel_layer"] = "ok"
    except Exception as error:
        checks["channel_layer"] = f"down: {error.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    response = JsonResponse(checks, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = "5"
    return response
