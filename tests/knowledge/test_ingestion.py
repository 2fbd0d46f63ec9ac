"""Knowledge base: every kind of document ingested into searchable chunks; search per language."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_tenants.utils import tenant_context

from apps.core.errors import InvalidInput
from apps.knowledge import services
from apps.knowledge.models import Document
from apps.knowledge.selectors import knowledge_search

pytestmark = pytest.mark.django_db


def make_pdf(text: str) -> bytes:
    """A minimal one-page PDF with a line of text (Helvetica)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def ingest(client, **fields):
    with tenant_context(client):
        document = services.document_create(ingest=False, **fields)
        return services.document_ingest(document_id=document.pk)


@pytest.mark.parametrize("kind, content, question, expected", [
    ("text", "Nous acceptons la carte bancaire et les espèces.", "payer par carte ?", "carte bancaire"),
    ("markdown", "# Parking\n\nUn **parking gratuit** est derrière le bâtiment.", "où se garer, parking ?",
     "parking gratuit"),
    ("html", "<html><head><title>Tarifs</title><style>.x{}</style></head><body><nav>menu</nav>"
             "<p>Le détartrage coûte 60 euros.</p><script>alert(1)</script></body></html>", "prix detartrage",
     "60 euros"),
])
def test_it_ingests_text_markdown_and_html(cast, kind, content, question, expected):
    document = ingest(cast.client_a, title="Doc", kind=kind, language="fr", text=content)
    assert document.status == Document.Status.READY and document.progress == 100 and document.chunk_count == 1
    with tenant_context(cast.client_a):
        passages = knowledge_search(query=question)
        assert expected in passages[0].text
        assert "alert" not in passages[0].text and "**" not in passages[0].text


def test_it_ingests_a_pdf(cast):
    document = ingest(cast.client_a, title="Brochure", kind="pdf", language="en",
                      data=make_pdf("Emergency plumbing available around the clock"))
    assert document.status == Document.Status.READY, document.error
    with tenant_context(cast.client_a):
        assert knowledge_search(query="emergency plumber")[0].title == "Brochure"


@pytest.fixture
def page_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/faq":
                body = "<html><head><title>Horario</title></head><body><p>Abrimos de martes a domingo.</p>" \
                       "</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_it_fetches_a_web_page(cast, page_server, settings):
    settings.KNOWLEDGE_ALLOW_PRIVATE_URLS = True
    document = ingest(cast.client_a, title="", kind="url", language="es", url=f"{page_server}/faq")
    assert document.status == Document.Status.READY, document.error
    assert document.title == "Horario"
    with tenant_context(cast.client_a):
        assert "martes a domingo" in knowledge_search(query="¿abren el domingo?")[0].text


def test_it_records_why_a_page_failed(cast, page_server, settings):
    settings.KNOWLEDGE_ALLOW_PRIVATE_URLS = True
    document = ingest(cast.client_a, title="x", kind="url", language="fr", url=f"{page_server}/missing")
    assert document.status == Document.Status.FAILED and "404" in document.error


def test_it_refuses_private_addresses_in_production(cast, page_server, settings):
    settings.KNOWLEDGE_ALLOW_PRIVATE_URLS = False
    document = ingest(cast.client_a, title="x", kind="url", language="fr", url=f"{page_server}/faq")
    assert document.status == Document.Status.FAILED and "private" in document.error


@pytest.mark.parametrize("fields", [
    {"kind": "text", "text": "   "}, {"kind": "pdf", "data": b"not a pdf"}, {"kind": "url", "url": "ftp://x"},
    {"kind": "video", "text": "x"}, {"kind": "text", "text": "x", "language": "xx"},
])
def test_it_refuses_bad_documents(cast, fields):
    fields = {"title": "t", "language": "fr", **fields}
    with tenant_context(cast.client_a), pytest.raises(InvalidInput):
        services.document_create(**fields)


@pytest.mark.parametrize("language, text, query", [
    ("ar", "يمكن الدفع نقدا أو بالبطاقة البنكية في الاستقبال.", "هل يمكنني الدفع بالبطاقه؟"),
    ("ary", "كنقبلو الخلاص بالكارط ولا بالكاش فالاستقبال.", "واش نقدر نخلص بالكارط؟"),
    ("en", "We accept payment by card or in cash at the front desk.", "can I pay by crad"),
    ("es", "Aceptamos pago con tarjeta o en efectivo.", "¿puedo pagar con tarjeta?"),
])
def test_it_finds_passages_in_each_language_even_misspelt(cast, language, text, query):
    ingest(cast.client_a, title="Paiement", kind="text", language=language, text=text)
    ingest(cast.client_a, title="Autre", kind="text", language=language, text="Sans rapport: horaires et accès.")
    with tenant_context(cast.client_a):
        assert knowledge_search(query=query)[0].title == "Paiement"


def test_it_reingests_without_duplicating(cast):
    document = ingest(cast.client_a, title="Doc", kind="text", language="fr", text="Un. " * 400)
    with tenant_context(cast.client_a):
        first = document.chunks.count()
        services.document_ingest(document_id=document.pk)
        assert document.chunks.count() == first > 1


def test_it_gives_the_planner_statistics_of_the_knowledge_tables_after_an_import(cast):
    """Without statistics the planner guessed one document and looped over every passage per document (7 s for
    one question on 1,000 documents); after an import the knowledge tables are analysed."""
    from django.db import connection

    from apps.knowledge.services import documents_import

    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": f"Page {n}", "text": f"Le parking numéro {n} est gratuit."}
                               for n in range(12)], language="fr")
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relnamespace = "
                           "current_schema()::regnamespace AND relname IN ('knowledge_chunk', 'knowledge_document')")
            tuples = dict(cursor.fetchall())
    assert tuples["knowledge_document"] >= 12
    assert tuples["knowledge_chunk"] >= 12
