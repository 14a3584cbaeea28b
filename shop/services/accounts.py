"""Accounts: sign-up rules shared by the sign-up page and the API."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from shop.errors import ApplicationError
from shop.models import User
from shop.validators import clean_text

EMAIL_IN_USE = "An account with this e-mail address already exists. Sign in, or reset your password."


def email_in_use(email: str) -> bool:
    return bool(email) and User.objects.filter(email__iexact=email.strip()).exists()


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str) -> User:
    """Create a customer. Refuses a username or e-mail already in use (any case) and weak passwords."""
    username = clean_text(username, max_length=150)
    email = User.objects.normalize_email(clean_text(email, max_length=254))
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken."]
    if email_in_use(email):
        errors["email"] = [EMAIL_IN_USE]
    user = User(username=username, email=email)
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if not email:
        errors.setdefault("email", []).append("An e-mail address is required.")
    if errors:
        first_field = next(iter(errors))
        raise ApplicationError(errors[first_field][0], details=errors, code="invalid")
    user.set_password(password)
    user.save()
    return user
