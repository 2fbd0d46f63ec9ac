"""HTTP goes to Django (client found by host/key), WebSockets to Channels consumers.

Every WebSocket passes the origin check and ClientScopeMiddleware, which puts the
client in `scope["client"]`; consumers then reach the database only through
`apps.core.channels_tenancy.client_db` (see STACK-NOTES.md, "the leak").
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vocalia.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.core.channels_tenancy import ClientScopeMiddleware  # noqa: E402
from vocalia.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ClientScopeMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
