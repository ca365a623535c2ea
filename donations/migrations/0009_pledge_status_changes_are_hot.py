"""A pledge's change of status becomes a HOT update: no index of the pledge table names `status`.

Before, `status` was in four indexes and in the conditions of three partial ones, so every change
of status wrote the row again somewhere else and a new entry in every index (six for a verified
pledge); reconciliation changes most unfinished pledges of a regency at once. Now:

- the rule "one active pledge per participant" lives in `donations_activepledge`, one row per
  pledge that is reserved, pledged or paid, whose primary key is the participant (the constraint
  keeps the old name, `pledge_one_active_per_participant`). Statement-level triggers on
  `donations_pledge` keep it in the statement that inserts, updates or deletes pledges, from the
  statement's new (or deleted) rows: a second active pledge for a participant fails that statement,
  whatever wrote it;
- the pledge indexes name no column a change of status writes: (regency, campaign), participant,
  donor; the expiry and reminder jobs start from `donations_activepledge` instead of their partial
  indexes;
- the pledge table leaves 40 % of each page free (fillfactor 60), so that the new version of a row
  fits in its own page, which HOT needs (existing pages are packed as they are; new ones follow).
"""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

ACTIVE = "('reserved', 'pledged', 'paid')"

FORWARD = f"""
ALTER TABLE donations_activepledge RENAME CONSTRAINT donations_activepledge_pkey
    TO pledge_one_active_per_participant;

CREATE FUNCTION donations_pledge_active_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO donations_activepledge (participant_id, pledge_id, regency_id)
    SELECT n.participant_id, n.id, n.regency_id FROM new_pledges n WHERE n.status IN {ACTIVE};
    RETURN NULL;
END;
$$;

-- Only the new rows are kept for the statement (half the memory of old + new): a pledge whose new
-- row is not active (or names another participant) loses its row, an active one without a row
-- gets it.
CREATE FUNCTION donations_pledge_active_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM donations_activepledge a USING new_pledges n
    WHERE a.pledge_id = n.id AND (n.status NOT IN {ACTIVE} OR a.participant_id <> n.participant_id);
    INSERT INTO donations_activepledge (participant_id, pledge_id, regency_id)
    SELECT n.participant_id, n.id, n.regency_id FROM new_pledges n
    WHERE n.status IN {ACTIVE}
      AND NOT EXISTS (SELECT 1 FROM donations_activepledge a WHERE a.pledge_id = n.id);
    RETURN NULL;
END;
$$;

CREATE FUNCTION donations_pledge_active_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM donations_activepledge a USING old_pledges o WHERE a.pledge_id = o.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER donations_pledge_active_insert AFTER INSERT ON donations_pledge
    REFERENCING NEW TABLE AS new_pledges
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_active_insert();
CREATE TRIGGER donations_pledge_active_update AFTER UPDATE ON donations_pledge
    REFERENCING NEW TABLE AS new_pledges
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_active_update();
CREATE TRIGGER donations_pledge_active_delete AFTER DELETE ON donations_pledge
    REFERENCING OLD TABLE AS old_pledges
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_active_delete();

INSERT INTO donations_activepledge (participant_id, pledge_id, regency_id)
SELECT participant_id, id, regency_id FROM donations_pledge WHERE status IN {ACTIVE};

ALTER TABLE donations_pledge SET (fillfactor = 60);
"""

BACKWARD = """
ALTER TABLE donations_pledge RESET (fillfactor);
DROP TRIGGER donations_pledge_active_insert ON donations_pledge;
DROP TRIGGER donations_pledge_active_update ON donations_pledge;
DROP TRIGGER donations_pledge_active_delete ON donations_pledge;
DROP FUNCTION donations_pledge_active_insert();
DROP FUNCTION donations_pledge_active_update();
DROP FUNCTION donations_pledge_active_delete();
DELETE FROM donations_activepledge;
ALTER TABLE donations_activepledge RENAME CONSTRAINT pledge_one_active_per_participant
    TO donations_activepledge_pkey;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0008_pledge_public_id_time_ordered"),
        ("participants", "0003_byte_collation_for_identifiers"),
        ("regencies", "0002_contribution_share"),
    ]

    operations = [
        migrations.CreateModel(
            name="ActivePledge",
            fields=[
                ("participant", models.OneToOneField(on_delete=django.db.models.deletion.DO_NOTHING,
                                                     primary_key=True, related_name="+", serialize=False,
                                                     to="participants.participant")),
                ("pledge", models.OneToOneField(on_delete=django.db.models.deletion.DO_NOTHING,
                                                related_name="active", to="donations.pledge")),
                ("regency", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                              related_name="+", to="regencies.regency")),
            ],
            options={
                "verbose_name": "janji aktif",
                "verbose_name_plural": "janji aktif",
                "abstract": False,
                "base_manager_name": "all_regencies",
                "default_manager_name": "all_regencies",
            },
            managers=[
                ("all_regencies", django.db.models.manager.Manager()),
            ],
        ),
        # The old name is free once the partial unique index is gone (index names share a namespace).
        migrations.RemoveConstraint(model_name="pledge", name="pledge_one_active_per_participant"),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RemoveIndex(model_name="pledge", name="pledge_regency_campaign"),
        migrations.RemoveIndex(model_name="pledge", name="pledge_donor_status"),
        migrations.RemoveIndex(model_name="pledge", name="pledge_participant_covering"),
        migrations.RemoveIndex(model_name="pledge", name="pledge_reserved_expiry"),
        migrations.RemoveIndex(model_name="pledge", name="pledge_pledged_unreminded"),
        migrations.AddIndex(model_name="pledge",
                            index=models.Index(fields=["regency", "campaign"], name="pledge_regency_campaign")),
        migrations.AddIndex(model_name="pledge", index=models.Index(fields=["participant"], name="pledge_participant")),
        migrations.AddIndex(model_name="pledge", index=models.Index(fields=["donor"], name="pledge_donor")),
    ]
