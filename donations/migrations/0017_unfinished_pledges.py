"""The pledges reconciliation still has to decide, kept by the database: `donations_unfinishedpledge`.

One row per pledge that is reserved, pledged, paid or disputed. Statement-level triggers on
`donations_pledge` keep it in the statement that inserts, updates or deletes pledges, from that
statement's new (or deleted) rows, as `donations_activepledge` is kept (migration 0009). A run
then reads its regency's unfinished pledges through this table's index instead of every pledge
the regency ever had: the pledge table has no index on `status`, so that a change of status
stays a HOT update.
"""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

UNFINISHED = "('reserved', 'pledged', 'paid', 'disputed')"

FORWARD = f"""
CREATE FUNCTION donations_pledge_unfinished_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO donations_unfinishedpledge (pledge_id, regency_id)
    SELECT n.id, n.regency_id FROM new_pledges n WHERE n.status IN {UNFINISHED};
    RETURN NULL;
END;
$$;

-- From the new rows only (as for the active pledges): a pledge no longer unfinished loses its row,
-- an unfinished one without a row gets it (and its regency, should that ever change).
CREATE FUNCTION donations_pledge_unfinished_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM donations_unfinishedpledge u USING new_pledges n
    WHERE u.pledge_id = n.id AND n.status NOT IN {UNFINISHED};
    INSERT INTO donations_unfinishedpledge AS u (pledge_id, regency_id)
    SELECT n.id, n.regency_id FROM new_pledges n WHERE n.status IN {UNFINISHED}
    ON CONFLICT (pledge_id) DO UPDATE SET regency_id = excluded.regency_id
        WHERE u.regency_id <> excluded.regency_id;
    RETURN NULL;
END;
$$;

CREATE FUNCTION donations_pledge_unfinished_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM donations_unfinishedpledge u USING old_pledges o WHERE u.pledge_id = o.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER donations_pledge_unfinished_insert AFTER INSERT ON donations_pledge
    REFERENCING NEW TABLE AS new_pledges
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_unfinished_insert();
CREATE TRIGGER donations_pledge_unfinished_update AFTER UPDATE ON donations_pledge
    REFERENCING NEW TABLE AS new_pledges
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_unfinished_update();
CREATE TRIGGER donations_pledge_unfinished_delete AFTER DELETE ON donations_pledge
    REFERENCING OLD TABLE AS old_pledges
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_unfinished_delete();

INSERT INTO donations_unfinishedpledge (pledge_id, regency_id)
SELECT id, regency_id FROM donations_pledge WHERE status IN {UNFINISHED};
"""

BACKWARD = """
DROP TRIGGER donations_pledge_unfinished_insert ON donations_pledge;
DROP TRIGGER donations_pledge_unfinished_update ON donations_pledge;
DROP TRIGGER donations_pledge_unfinished_delete ON donations_pledge;
DROP FUNCTION donations_pledge_unfinished_insert();
DROP FUNCTION donations_pledge_unfinished_update();
DROP FUNCTION donations_pledge_unfinished_delete();
DELETE FROM donations_unfinishedpledge;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("donations", "0016_data_version"),
        ("regencies", "0007_data_version_members_places"),
    ]

    operations = [
        migrations.CreateModel(
            name="UnfinishedPledge",
            fields=[
                ("pledge", models.OneToOneField(on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name="+", serialize=False, to="donations.pledge")),
                ("regency", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="regencies.regency")),
            ],
            options={
                "verbose_name": "janji belum selesai",
                "verbose_name_plural": "janji belum selesai",
                "abstract": False,
                "base_manager_name": "all_regencies",
                "default_manager_name": "all_regencies",
                "indexes": [models.Index(fields=["regency", "pledge"], name="unfinished_pledge_regency")],
            },
            managers=[
                ("all_regencies", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
