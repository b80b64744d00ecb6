from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.dashboard import ops_dashboard
from config.views import healthz, metrics, readyz
from schema.transports.http import GraphQLHTTPView

urlpatterns = [
    path("graphql/", csrf_exempt(GraphQLHTTPView.as_view())),
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics),
    path("ops/", ops_dashboard),
    path("admin/", admin.site.urls),
]
