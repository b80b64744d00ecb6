"""Users and their profiles. A user is identified publicly by `uuid`, never by the integer key."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from modules.user.phone_numbers import normalise_phone_number, validate_phone_number


class UserType(models.TextChoices):
    STAFF = "STAFF", "Staff"
    DRIVER = "DRIVER", "Driver"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        username: str,
        phone_number: str | None = None,
        password: str | None = None,
        **extra: object,
    ) -> User:
        """A user and its (empty) profile: every user has the profile of its type."""
        if phone_number:
            phone_number = normalise_phone_number(str(phone_number), require_valid=False)
        user = self.model(username=username, phone_number=phone_number or None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        with transaction.atomic(using=self._db):
            user.save(using=self._db)
            profile_model = DriverProfile if user.type == UserType.DRIVER else StaffProfile
            profile_model.objects.using(self._db).create(user=user)
        return user

    def create_superuser(
        self,
        username: str,
        phone_number: str | None = None,
        password: str | None = None,
        **extra: object,
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("type", UserType.STAFF)
        return self.create_user(username, phone_number, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    username = models.CharField(max_length=150, unique=True)
    # E.164; cleared when the user is anonymised (unregistered or banned).
    phone_number = models.CharField(
        max_length=16, unique=True, null=True, blank=True, validators=[validate_phone_number]
    )
    # Keyed digest of a banned user's number, so the number can be refused without keeping it.
    banned_phone_digest = models.CharField(max_length=64, blank=True, db_index=True)
    type = models.CharField(max_length=10, choices=UserType.choices)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    banned = models.BooleanField(default=False, db_index=True)
    banned_at = models.DateTimeField(null=True, blank=True)
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
            ),
            # Staff powers belong to STAFF users only, so `isStaff` always means what it says.
            models.CheckConstraint(
                condition=models.Q(type="STAFF") | models.Q(is_staff=False, is_superuser=False),
                name="user_staff_flags_only_on_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def clean(self) -> None:
        super().clean()
        if self.type == UserType.DRIVER and (self.is_staff or self.is_superuser):
            raise ValidationError("Only STAFF users can be staff or superusers.")

    @property
    def profile(self) -> StaffProfile | DriverProfile | None:
        attribute = "driver_profile" if self.type == UserType.DRIVER else "staff_profile"
        return getattr(self, attribute, None)


class StaffProfile(models.Model):
    """A staff member's profile (one per STAFF user)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    full_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.user.username


class DriverProfile(models.Model):
    """A driver's profile (one per DRIVER user)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="driver_profile")
    full_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.full_name or self.user.username
