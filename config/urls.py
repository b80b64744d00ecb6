from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.views import healthz
from schema.http import GraphQLHTTPView

urlpatterns = [
    path("graphql/", csrf_exempt(GraphQLHTTPView.as_view())),
    path("healthz", healthz),
    path("admin/", admin.site.urls),
]
