"""Top-level routes: pages, the API, its schema and docs, admin and the health check."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from voting.core.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/", include("voting.urls")),
    path("healthz", healthz, name="healthz"),
    # The language switcher posts here (django.views.i18n.set_language).
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("voting.page_urls")),
]

handler404 = "voting.events.pages.not_found"
handler500 = "voting.events.pages.server_error"
