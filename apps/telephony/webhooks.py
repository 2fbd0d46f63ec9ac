"""Twilio's HTTP webhooks: is this request really from Twilio, and for which number.

Any view Twilio calls (voice, call status, recordings, SMS, WhatsApp) is wrapped in `@twilio_webhook()`:

    @twilio_webhook()                       # routes by the `To` parameter (then `From`)
    def sms_incoming(request, hook):        # hook.route (NumberRoute | None), hook.params (cleaned dict)
        ...

It checks `X-Twilio-Signature` with the twilio library's RequestValidator against the URL Twilio called,
rebuilt from `settings.PUBLIC_URL` (behind a proxy Django sees another host and scheme), and the auth token
of the account that owns the number (the client's own, the agency's, or the offline twin's). A forged or
unsigned request gets 403 before the view runs: nothing is read from a client's schema, nothing written.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import tenant_context

from apps.core.errors import PermissionDenied, VocaliaError
from apps.core.inputs import text_clean
from apps.integrations.registry import PROVIDERS, TWINS, provider_class
from apps.integrations.resolver import agency_default
from apps.telephony.selectors import NumberRoute, e164_clean, number_route

logger = logging.getLogger(__name__)

MAX_PARAM_CHARS = 4000  # a Body, a transcript: Twilio's own fields are far shorter


class SignatureInvalid(PermissionDenied):
    code = "signature_invalid"
    default_message = _("The request's signature is not valid.")


class MethodNotAllowed(VocaliaError):
    status = 405
    code = "method_not_allowed"
    default_message = _("This address only accepts POST requests.")


def public_url(path_and_query: str) -> str:
    """The absolute URL Twilio calls for `path_and_query`, from the configured public base URL."""
    return settings.PUBLIC_URL.rstrip("/") + path_and_query


def public_ws_url(path_and_query: str) -> str:
    """The wss:// (ws:// for a plain http base) URL of a socket path: what Twilio opens and signs."""
    base = settings.PUBLIC_URL.rstrip("/")
    scheme, _sep, rest = base.partition("://")
    return ("wss://" if scheme == "https" else "ws://") + rest + path_and_query


def _twin() -> Any:
    return provider_class("telephony", TWINS["telephony"]).from_settings({})


def _agency() -> Any | None:
    default = agency_default("telephony")
    if default is None:
        return None
    try:
        return provider_class("telephony", default[0]).from_settings(default[1])
    except VocaliaError:
        logger.error("the agency's telephony settings cannot build a provider")
        return None


def _client_account(route: NumberRoute) -> Any | None:
    from apps.integrations.models import ConnectedAccount

    if route.client is None:
        return None
    with tenant_context(route.client):
        account = ConnectedAccount.objects.filter(kind="telephony", provider=route.provider).first()
        values = account.credentials if account is not None else None
    if not values:
        return None
    try:
        return provider_class("telephony", route.provider).from_settings(values)
    except VocaliaError:
        return None


def signing_provider(route: NumberRoute | None) -> Any | None:
    """The provider whose token signs this number's webhooks (whatever the client's plan: an answer owed to a
    caller on a plan without telephony is a polite message, so its request must verify). None: no account
    can verify it, the request is refused."""
    if route is None:
        return _agency() or _twin()
    if route.provider == TWINS["telephony"]:
        return _twin()
    if route.provider not in PROVIDERS["telephony"]:
        return None
    if route.account_source == "client":
        return _client_account(route)
    if route.account_source == "subaccount":
        from apps.telephony.accounts import subaccount_provider_by_sid

        return subaccount_provider_by_sid(route.account_sid)
    agency = _agency()
    return agency if agency is not None and agency.name == route.provider else None


def signature_valid(provider: Any | None, *, url: str, params: Mapping[str, Any], signature: str) -> bool:
    if provider is None or not signature:
        return False
    try:
        return bool(provider.signature_valid(url=url, params=params, signature=signature))
    except (ValueError, TypeError, UnicodeError):
        return False


@dataclass(frozen=True)
class TwilioHook:
    route: NumberRoute | None
    params: dict[str, str]  # the POST parameters, cleaned (NUL and lone surrogates removed, bounded)
    provider: Any

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)


def _params(request: HttpRequest) -> dict[str, str]:
    return {text_clean(key)[:100]: text_clean(value)[:MAX_PARAM_CHARS] for key, value in request.POST.items()}


def webhook_verify(request: HttpRequest, *, number_params: tuple[str, ...] = ("To", "From")) -> TwilioHook:
    """Route a Twilio request by its number and check its signature; SignatureInvalid when forged."""
    if request.method != "POST":
        raise MethodNotAllowed()
    route = None
    for name in number_params:
        route = number_route(e164_clean(request.POST.get(name, "")))
        if route is not None:
            break
    provider = signing_provider(route)
    url = public_url(request.get_full_path())
    if not signature_valid(provider, url=url, params=request.POST,
                           signature=request.headers.get("X-Twilio-Signature", "")):
        logger.warning("refused a Twilio request with a bad signature on %s", request.path)
        raise SignatureInvalid()
    return TwilioHook(route=route, params=_params(request), provider=provider)


def twilio_webhook(*, number_params: tuple[str, ...] = ("To", "From")
                   ) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a view Twilio calls: the view runs only for a genuine request, as `view(request, hook, ...)`."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            hook = webhook_verify(request, number_params=number_params)
            return view(request, hook, *args, **kwargs)

        return checked

    return wrap
