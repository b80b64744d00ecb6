"""Users and their profiles. A user is identified publicly by `uuid`, never by the integer key."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserType(models.TextChoices):
    STAFF = "STAFF", "Staff"
    DRIVER = "DRIVER", "Driver"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, username: str, phone_number: str | None = None, password: str | None = None, **extra: object
    ) -> User:
        user = self.model(username=username, phone_number=phone_number or None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(
        self, username: str, phone_number: str | None = None, password: str | None = None, **extra: object
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("type", UserType.STAFF)
        return self.create_user(username, phone_number, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    username = models.CharField(max_length=150, unique=True)
    # E.164; cleared when the user is anonymised (unregistered or banned).
    phone_number = models.CharField(max_length=16, unique=True, null=True, blank=True)
    # Keyed digest of a banned user's number, so the number can be refused without keeping it.
    banned_phone_digest = models.CharField(max_length=64, blank=True, db_index=True)
    type = models.CharField(max_length=10, choices=UserType.choices)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    banned = models.BooleanField(default=False, db_index=True)
    date_joined = models.DateTimeField(default=timezone.now)
    unregistered_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["phone_number"]

    class Meta:
        ordering = ["-date_joined", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=["STAFF", "DRIVER"]), name="user_type_valid"
            )
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def profile(self) -> StaffProfile | DriverProfile | None:
        attribute = "driver_profile" if self.type == UserType.DRIVER else "staff_profile"
        return getattr(self, attribute, None)


class StaffProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    full_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.user.username


class DriverProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="driver_profile")
    full_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.user.username
