"""The SSRF guard: addresses checked after DNS, and the connection made to the checked address (the Host
header kept), so a name that resolves differently at connect time cannot reach a private address."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from apps.events import transport


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.8", "172.16.3.4", "192.168.1.1", "169.254.169.254",
                                     "100.64.1.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1",
                                     "224.0.0.1", "240.0.0.1"])
def test_it_refuses_loopback_private_link_local_metadata_and_reserved(address, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    assert not transport.address_allowed(ipaddress.ip_address(address))


def test_it_allows_public_addresses(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    assert transport.address_allowed(ipaddress.ip_address("93.184.215.14"))
    assert transport.address_allowed(ipaddress.ip_address("2606:4700::1111"))


def fake_dns(monkeypatch, answers):
    """Replace DNS (the network) with fixed answers; count the look-ups."""
    calls = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:  # an address already (the connect to the checked address): no DNS
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = answers[host].pop(0) if isinstance(answers[host], list) else answers[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    return calls


def test_it_checks_the_address_a_name_resolves_to(monkeypatch, receiver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    fake_dns(monkeypatch, {"hooks.example.com": "127.0.0.1"})
    answer = transport.post(f"http://hooks.example.com:{receiver.port}/hook", body=b"{}", headers={})
    assert answer.status is None and "private or reserved" in answer.error
    assert receiver.requests == []  # nothing was sent


def test_it_connects_to_the_checked_address_with_the_host_kept(monkeypatch, receiver):
    # resolves once to the receiver, then (rebinding) elsewhere: the connection uses the first, checked answer
    calls = fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1", "10.9.9.9"]})
    answer = transport.post(f"http://hooks.example.com:{receiver.port}/in?x=1", body=b'{"a":1}',
                            headers={"webhook-id": "msg_1"})
    assert answer.status == 200 and calls == ["hooks.example.com"]
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert (request.path, request.body, request.headers["webhook-id"]) == ("/in?x=1", b'{"a":1}', "msg_1")


def test_it_never_follows_a_redirect(receiver):
    receiver.answers = [(307, {"Location": "http://169.254.169.254/"}, b"")]
    answer = transport.post(receiver.url, body=b"{}", headers={})
    assert answer.status == 307 and len(receiver.requests) == 1


def test_it_cuts_the_response_excerpt(receiver):
    receiver.answers = [(500, {}, b"x" * 100_000)]
    answer = transport.post(receiver.url, body=b"{}", headers={})
    assert answer.status == 500 and len(answer.excerpt) == transport.EXCERPT_BYTES


def test_a_name_that_does_not_resolve_is_an_error_not_a_crash(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    answer = transport.post("https://nowhere.example/", body=b"{}", headers={})
    assert answer.status is None and "cannot resolve" in answer.error
