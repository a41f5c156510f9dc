"""The pupils' trigram index goes (PostgreSQL only): since the names table (support's migrations
"family_search_names" and "family_search_trust_names") a name search on PostgreSQL reads that table alone,
so nothing reads ``pupil_name_trgm`` any more, and every pupil written still paid for its GIN entries.
The carers' ``family_name_trgm`` stays: the voucher list's family-name search reads it."""

from django.db import migrations

from support.migrations._postgresql import postgresql_only

DROP_SQL = ["DROP INDEX IF EXISTS pupil_name_trgm"]
# As support's migration "family_search" made it.
CREATE_SQL = [
    "CREATE INDEX IF NOT EXISTS pupil_name_trgm ON support_pupil USING gin "
    "((preferred_forename || ' ' || legal_forename || ' ' || surname) gin_trgm_ops)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0025_family_search_name_length"),
    ]

    operations = [
        postgresql_only(DROP_SQL, CREATE_SQL),
    ]
