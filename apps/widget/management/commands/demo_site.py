"""Serve a page on another origin than the platform, with a demo client's widget: the widget as it runs
on a client's own website. `make site`, then open http://localhost:8001/ (or /atlas.html)."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.clients.demo import CLIENTS, DEMO_SITE_PORT
from apps.clients.models import Client
from apps.clients.selectors import client_publishable_key

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui;max-width:720px;margin:40px auto;padding:0 16px">
<h1>{name}</h1>
<p>A page of the client's own website, on another origin than the platform. The widget below is the
real one, talking to {platform}.</p>
<p><a href="index.html">demo</a> · <a href="atlas.html">atlas</a> · <a href="voice.html">demo in English</a>
(the offline recogniser hears English: press the microphone and ask "what are your opening hours")</p>
<script src="{platform}/static/widget/vocalia.js" data-vocalia-key="{key}" data-lang="{lang}" async></script>
</body></html>
"""


class Command(BaseCommand):
    help = "Serve a demo page embedding the demo clients' widgets on another origin (default port 8001)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=DEMO_SITE_PORT)
        parser.add_argument("--platform", default=settings.PUBLIC_URL)

    def handle(self, *args: Any, port: int, platform: str, **options: Any) -> None:
        folder = Path(settings.BASE_DIR) / ".data" / "site"
        folder.mkdir(parents=True, exist_ok=True)
        pages = [(CLIENTS[0], "index.html", CLIENTS[0]["language"]), (CLIENTS[1], "atlas.html", CLIENTS[1]["language"]),
                 (CLIENTS[0], "voice.html", "en")]
        for spec, filename, language in pages:
            client = Client.objects.filter(slug=spec["slug"]).first()
            key = client_publishable_key(client=client) if client else None
            if key is None:
                raise CommandError("no demo client: run `make demo` (or `make run`) first")
            (folder / filename).write_text(PAGE.format(lang=language, name=spec["name"],
                                                       platform=platform.rstrip("/"), key=key.lookup))
        server = ThreadingHTTPServer(("0.0.0.0", port), partial(SimpleHTTPRequestHandler, directory=str(folder)))
        self.stdout.write(f"demo site on http://localhost:{port}/ (Ctrl-C stops it)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.shutdown()
