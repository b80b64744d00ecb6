"""Filters and orderings for `users(filter, order)` (bridged to GraphQL by schema.kit.filters)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from modules.user.models import User, UserType


class UserFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=UserType.choices, label="Only users of this type.")
    is_staff = django_filters.BooleanFilter(label="Only users marked as staff (or not).")
    banned = django_filters.BooleanFilter(label="Only banned users (or only not banned).")
    search = django_filters.CharFilter(
        method="search_names", label="Part of the username or full name."
    )
    order = django_filters.OrderingFilter(
        fields=(("date_joined", "dateJoined"), ("username", "username"))
    )

    class Meta:
        model = User
        fields: list[str] = []

    def search_names(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(staff_profile__full_name__icontains=value)
            | Q(driver_profile__full_name__icontains=value)
        )
