from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.graphql_vs_rest.graphene_app.schema import StaffGraphQLView
from config.views import healthz

urlpatterns = [
    path("graphql/", csrf_exempt(StaffGraphQLView.as_view())),
    path("healthz", healthz),
]
