"""HTTP goes to Django (client found by host/key), WebSockets to Channels consumers.

The public widget API (/widget/v1/) has a Django handler of its own with a short middleware list
(settings.WIDGET_MIDDLEWARE): the dashboard's sessions, users, CSRF and messages would only cost it time.

Every WebSocket passes MessageSizeLimit (a message over WEBSOCKET_MAX_MESSAGE_BYTES closes it with 1009),
then ClientScopeMiddleware, which puts the client in `scope["client"]` and refuses a dashboard socket opened
from a page that is not the client's own (cross-site hijacking); consumers then reach the database only
through `apps.core.channels_tenancy.client_db` (see STACK-NOTES.md, "the leak"). The widget's consumer
checks its Origin against the client's allow-list itself, before it reads a message.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vocalia.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from apps.core.channels_tenancy import ClientScopeMiddleware  # noqa: E402
from apps.core.sockets import MessageSizeLimit  # noqa: E402
from vocalia.routing import websocket_urlpatterns  # noqa: E402

WIDGET_PREFIX = "/widget/v1/"

with override_settings(MIDDLEWARE=settings.WIDGET_MIDDLEWARE):  # read once, here, by the handler's constructor
    widget_asgi_app = ASGIHandler()


async def http_application(scope, receive, send):
    app = widget_asgi_app if scope["path"].startswith(WIDGET_PREFIX) else django_asgi_app
    return await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": MessageSizeLimit(ClientScopeMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
