"""Dashboard: the install-widget page (snippets, allowed domains, appearance with a live preview,
installation check, troubleshooting fed by real refusals)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from apps.agents.models import Agent
from apps.clients.entitlements import client_may
from apps.clients.selectors import client_publishable_key
from apps.core.errors import VocaliaError
from apps.core.inputs import text_clean
from apps.dashboard.views import _require_manage
from apps.voice.providers import recognised_languages
from apps.widget.models import WidgetSettings
from apps.widget.services import (
    LANGUAGES,
    widget_appearance_set,
    widget_origins_set,
    widget_settings,
    widget_state,
)

PLATFORMS = [
    ("html", gettext_lazy("HTML")), ("wordpress", "WordPress"), ("shopify", "Shopify"), ("wix", "Wix"),
    ("react", "React / Next.js"), ("gtm", "Google Tag Manager"),
]


class AppearanceForm(forms.Form):
    color = forms.CharField(label=gettext_lazy("Colour"), max_length=7,
                            widget=forms.TextInput(attrs={"type": "color"}))
    position = forms.ChoiceField(label=gettext_lazy("Position"), choices=WidgetSettings.Position.choices,
                                 widget=forms.RadioSelect)  # two long labels: whole, where a select cut them
    languages = forms.MultipleChoiceField(label=gettext_lazy("Languages"), choices=settings.LANGUAGES,
                                          widget=forms.CheckboxSelectMultiple)
    agent = forms.TypedChoiceField(label=gettext_lazy("Agent"), coerce=int, required=False, empty_value=None)
    greeting = forms.CharField(label=gettext_lazy("Greeting (in the client's default language)"), required=False,
                               max_length=300)
    launcher = forms.CharField(label=gettext_lazy("Button text"), required=False, max_length=40)


# The tag the instructions name, as code: a placeholder value, so "</body>" is escaped in every language.
BODY_END = format_html("<code>{}</code>", "</body>")


def _snippet(host_url: str, key: str) -> str:
    return f'<script src="{host_url}/static/widget/vocalia.js" data-vocalia-key="{key}" async></script>'


def _platform_url(request: HttpRequest) -> str:
    scheme = "https" if request.is_secure() else "http"
    port = request.get_port()
    default = {"http": "80", "https": "443"}[scheme]
    host = settings.BASE_DOMAIN + ("" if port == default else f":{port}")
    return f"{scheme}://{host}"


def install(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    row = widget_settings(client)
    key = client_publishable_key(client=client)
    platform = _platform_url(request)
    snippet = _snippet(platform, key.lookup) if key else ""
    agents = list(Agent.objects.values_list("pk", "name"))
    form = AppearanceForm(initial={
        "color": row.color, "position": row.position, "languages": row.languages or LANGUAGES,
        "agent": row.agent_id, "greeting": row.greeting.get(client.default_language, ""),
        "launcher": row.launcher_text.get(client.default_language, "")})
    form.fields["agent"].choices = [("", _("The first active agent"))] + agents
    state = widget_state(client)
    names = dict(settings.LANGUAGES)
    heard = [names[code] for code in recognised_languages()]
    return render(request, "widget/install.html", {
        "snippet": snippet, "platforms": PLATFORMS, "settings_row": row, "form": form, "key": key,
        "platform_url": platform, "socket_url": "ws" + platform.removeprefix("http"),
        "origins_limit": client.plan.allowed_origins, "voice": client_may(client, "voice_widget"),
        "voice_heard": ", ".join(str(name) for name in heard), "body_end": BODY_END, **state})


@require_POST
def origins_update(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    client = request.client  # type: ignore[attr-defined]
    current = list(widget_settings(client).allowed_origins)
    try:
        if "remove" in request.POST:
            current = [origin for origin in current if origin != request.POST["remove"]]
        elif request.POST.get("origin", "").strip():
            current.append(text_clean(request.POST["origin"], field="origin").strip())
        widget_origins_set(client=client, origins=current)
    except VocaliaError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Allowed domains saved."))
    return redirect("install")


@require_POST
def appearance_update(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    client = request.client  # type: ignore[attr-defined]
    form = AppearanceForm(request.POST)
    form.fields["agent"].choices = [("", "")] + list(Agent.objects.values_list("pk", "name"))
    if not form.is_valid():
        messages.error(request, _("Please check the appearance settings."))
        return redirect("install")
    row = widget_settings(client)
    data = form.cleaned_data
    greeting = dict(row.greeting)
    launcher = dict(row.launcher_text)
    greeting[client.default_language] = data["greeting"]
    launcher[client.default_language] = data["launcher"]
    try:
        widget_appearance_set(client=client, color=data["color"], position=data["position"],
                              languages=data["languages"], greeting=greeting, launcher_text=launcher,
                              agent_id=data["agent"], avatar_url=row.avatar_url)
    except VocaliaError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Appearance saved."))
    return redirect("install")


@xframe_options_sameorigin
def preview(request: HttpRequest) -> HttpResponse:
    """The real widget on a page of the client's own dashboard host (always allowed), for the live preview."""
    client = request.client  # type: ignore[attr-defined]
    key = client_publishable_key(client=client)
    return render(request, "widget/preview.html", {"key": key, "platform_url": _platform_url(request),
                                                   "lang": request.GET.get("lang", client.default_language)})
