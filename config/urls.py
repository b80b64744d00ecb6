from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from config.dashboard import ops_dashboard
from config.views import healthz, metrics, readyz
from schema.transports.http import GraphQLHTTPView

urlpatterns = [
    # The bare address (what `make run` prints, what people type) opens GraphiQL.
    path("", RedirectView.as_view(url="/graphql/")),
    path("graphql/", csrf_exempt(GraphQLHTTPView.as_view())),
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics),
    path("ops/", ops_dashboard),
    path("admin/", admin.site.urls),
]
