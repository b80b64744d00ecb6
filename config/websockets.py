from django.urls import re_path

from schema.transports.websocket import GraphQLWebSocketConsumer

websocket_urlpatterns = [re_path(r"^graphql/?$", GraphQLWebSocketConsumer.as_asgi())]
