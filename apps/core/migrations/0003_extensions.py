"""Extensions live in the public schema, where every client schema's search_path reaches them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0002_canary_row")]
    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public", migrations.RunSQL.noop),
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public", migrations.RunSQL.noop),
    ]
