"""The project's URLs plus the bench-only REST variants."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.graphql_vs_rest import rest, views
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("bench/hand/items", views.shipping_items),
    path("bench/hand/transports", views.transports),
    path("bench/drf/items", rest.ShippingItemList.as_view()),
    path("bench/drf/transports", rest.TransportList.as_view()),
    path("bench/hand/arrivals", views.arrivals),
    path("bench/drf/arrivals", rest.ArrivalList.as_view()),
    path("bench/graphql-ordinary/", csrf_exempt(views.OrdinaryGraphQLView.as_view())),
]
