from django.urls import re_path

from schema.transports.websocket import GraphQLWebSocketConsumer

websocket_urlpatterns = [re_path(r"^graphql/?$", GraphQLWebSocketConsumer.as_asgi())]  # type: ignore[arg-type]  # an ASGI app: Channels routes with re_path, django-stubs types it for views
