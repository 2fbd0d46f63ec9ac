"""Seconds to provision a client: by cloning the template schema vs by running every migration.

    .venv/bin/python bench/provision.py [--clones N]

Creates throw-away clients `bench-*` in the `make run` database and removes them.
Last line: {"clone_s": …, "migrate_s": …, "ratio": …}
"""

from __future__ import annotations

import argparse
import time

from _setup import emit, median

from apps.clients import provisioning, services
from apps.clients.models import Client, Plan


def _cleanup(slug: str) -> None:
    client = Client.objects.filter(slug=slug).first()
    if client is not None:
        provisioning.schema_drop(client.schema_name)
        client.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clones", type=int, default=5)
    args = parser.parse_args()
    provisioning.template_sync()
    plan = Plan.objects.get(code="pro")

    clone_times = []
    for index in range(args.clones):
        slug = f"bench-clone-{index}"
        _cleanup(slug)
        client = services.client_create(name=slug, slug=slug, plan=plan, provision=False)
        started = time.perf_counter()
        services.client_provision(client_id=client.pk)
        clone_times.append(time.perf_counter() - started)
        _cleanup(slug)
        print(f"provision by clone #{index + 1}: {clone_times[-1]:.3f} s")

    slug = "bench-migrate"
    _cleanup(slug)
    client = services.client_create(name=slug, slug=slug, plan=plan, provision=False)
    started = time.perf_counter()
    provisioning.schema_migrate(client.schema_name)  # the slow path: every migration
    services.client_provision(client_id=client.pk)  # then the same remaining steps (schema is current)
    migrate_s = time.perf_counter() - started
    _cleanup(slug)
    print(f"provision by migrations: {migrate_s:.3f} s")

    clone_s = median(clone_times)
    print(f"median clone {clone_s:.3f} s; clone is {migrate_s / clone_s:.1f}x faster")
    emit({"clone_s": round(clone_s, 3), "migrate_s": round(migrate_s, 3), "ratio": round(migrate_s / clone_s, 1)})


if __name__ == "__main__":
    main()
