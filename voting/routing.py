"""Websocket routes."""

from django.urls import path

from .consumers import EventFeed

websocket_urlpatterns = [path("ws/events/<slug:slug>/", EventFeed.as_asgi())]
