"""Who acts when no person does: a client's secret key on the REST API.

Services take an `actor` and check it (`manager_require`); an `ApiActor` may manage its own client, as an owner
could, and nothing of any other client. Audit rows name it `api@<slug>`.
"""

from __future__ import annotations

from typing import Any


class ApiActor:
    """The authenticated principal of an API request: a client, not a person."""

    is_authenticated = True
    is_staff = False

    def __init__(self, client: Any) -> None:
        self.client = client
        self.email = f"api@{client.slug}"

    def manages(self, client: Any) -> bool:
        return getattr(client, "pk", None) is not None and client.pk == self.client.pk
