"""Play Twilio's side of an inbound SMS or WhatsApp message — signed the way Twilio signs it, posted to our own
webhook in-process — for the demo and for trying the flows without a phone:

    manage.py message_simulate demo --from +33612345678 "annuler"
    manage.py message_simulate atlas --channel whatsapp --from +212600000001 "salam"

The client's first number with the channel (apps.telephony) is the `To`; its account signs (the offline twin's
token for the built-in numbers). Prints the webhook's answer and the replies queued by then (the agent's own
reply is sent by the Celery worker a moment later: see the Outbox page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.test import Client as HttpClient
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

from apps.clients.models import Client
from apps.integrations.models import Delivery
from apps.telephony.models import PhoneNumber
from apps.telephony.selectors import number_route
from apps.telephony.webhooks import public_url, signing_provider


class Command(BaseCommand):
    help = "Send a signed, Twilio-shaped inbound SMS / WhatsApp message to a client's number (in-process)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("client", help="the client's slug")
        parser.add_argument("body")
        parser.add_argument("--from", dest="sender", default="+33612345678")
        parser.add_argument("--channel", choices=["sms", "whatsapp"], default="sms")

    def handle(self, *args: Any, **options: Any) -> None:
        client = Client.objects.filter(slug=options["client"]).first()
        if client is None:
            raise CommandError(f"no client {options['client']!r}")
        channel = options["channel"]
        number = (PhoneNumber.objects.filter(client=client, status=PhoneNumber.Status.ACTIVE, **{channel: True})
                  .first() or PhoneNumber.objects.filter(client=client, status=PhoneNumber.Status.ACTIVE).first())
        if number is None:
            raise CommandError(f"{client.slug} has no phone number yet (apps.telephony): assign one first")
        prefix = "whatsapp:" if channel == "whatsapp" else ""
        params = {"MessageSid": "SM" + "0" * 32, "AccountSid": number.account_sid or "AC" + "0" * 32,
                  "From": prefix + options["sender"], "To": prefix + number.e164, "Body": options["body"],
                  "NumMedia": "0", "ApiVersion": "2010-04-01"}
        path = f"/telephony/twilio/messages/{channel}/"
        provider = signing_provider(number_route(number.e164))
        if provider is None or not hasattr(provider, "auth_token"):
            raise CommandError("no account can sign for this number")
        from twilio.request_validator import RequestValidator

        with tenant_context(client):
            before = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
        signature = RequestValidator(provider.auth_token).compute_signature(public_url(path), params)
        with override_settings(ALLOWED_HOSTS=["*"]):
            response = HttpClient().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
        self.stdout.write(f"webhook: {response.status_code}")
        with tenant_context(client):
            for delivery in Delivery.objects.filter(id__gt=before).order_by("id"):
                self.stdout.write(f"→ {delivery.channel} {delivery.to} [{delivery.status}] {delivery.body}")
