"""Sign-up is by invitation only: an invitation link creates the account (apps.dashboard.views.invitation_accept)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_safe_url(self, url: str | None) -> bool:
        """allauth's check, except that a `?next=` urlparse cannot read (`http://[::1`) is simply not safe:
        allauth let its ValueError through, a 500 on the sign-in page (issue 8)."""
        try:
            return bool(super().is_safe_url(url))
        except ValueError:
            return False
