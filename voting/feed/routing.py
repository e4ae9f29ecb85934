"""Websocket routes."""

from django.urls import path

from voting.feed.consumers import EventFeed

websocket_urlpatterns = [path("ws/events/<slug:slug>/", EventFeed.as_asgi())]
