"""Pledge counts and sums kept by the database, so the dashboards read a few rows, not every pledge.

The dashboard's pledge figures were aggregates over every pledge the regency ever had (by status,
per campaign, the participants covered per district), so they grew with each month of pledges
(bench/README.md, "bench_year"). Now statement triggers on `donations_pledge` keep:

- `donations_pledgetally`: per (regency, campaign, status) the pledges and their rupiah, from the
  statement's new rows minus its old ones;
- `donations_covertally`: the participants a covering pledge covers, once each, in the regency,
  per campaign and per district: for the participants whose covering pledges the statement
  added, removed or moved, what covered them after the statement (the table) against before it
  (the table without the statement's new rows, with its old rows);
- `donations_pledge.district`: the participant's district when the pledge is made (a row trigger
  fills it when the insert leaves it empty), so the district a pledge counts in never moves.

Like `donations_activepledge` (0009): whatever writes pledges (the ORM, the reconciliation's SQL,
an operator's UPDATE), the tallies change in the same statement, and a statement that fails
changes neither.
"""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

from donations.tallies import COVERING_SQL, REBUILD_SQL

# {old} / {new}: the statement's old and new rows (an empty set where the event has none).
TALLY_BODY = """
BEGIN
    INSERT INTO donations_pledgetally AS t (regency_id, campaign_id, status, pledges, rupiah)
    SELECT d.regency_id, d.campaign_id, d.status, sum(d.n), sum(d.amount)
    FROM (SELECT regency_id, campaign_id, status, 1 AS n, amount FROM {new} AS nw
          UNION ALL SELECT regency_id, campaign_id, status, -1, -amount FROM {old} AS od) AS d
    GROUP BY 1, 2, 3 HAVING sum(d.n) <> 0 OR sum(d.amount) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (regency_id, campaign_id, status)
    DO UPDATE SET pledges = t.pledges + EXCLUDED.pledges, rupiah = t.rupiah + EXCLUDED.rupiah;

    WITH o AS (SELECT id, participant_id, regency_id, campaign_id, district_id FROM {old} AS od
               WHERE status IN {covering}),
         n AS (SELECT id, participant_id, regency_id, campaign_id, district_id FROM {new} AS nw
               WHERE status IN {covering}),
         -- a covering row that appeared, went, or names another participant, campaign or district
         changed AS (
             SELECT o.participant_id AS was, n.participant_id AS now FROM o FULL JOIN n ON n.id = o.id
             WHERE o.id IS NULL OR n.id IS NULL OR o.participant_id <> n.participant_id
                OR o.regency_id <> n.regency_id OR o.campaign_id <> n.campaign_id
                OR o.district_id IS DISTINCT FROM n.district_id),
         touched AS (SELECT was AS participant_id FROM changed WHERE was IS NOT NULL
                     UNION SELECT now FROM changed WHERE now IS NOT NULL),
         after AS (SELECT p.regency_id, p.participant_id, p.campaign_id, p.district_id
                   FROM donations_pledge p JOIN touched t ON t.participant_id = p.participant_id
                   WHERE p.status IN {covering}),
         before AS (SELECT p.regency_id, p.participant_id, p.campaign_id, p.district_id
                    FROM donations_pledge p JOIN touched t ON t.participant_id = p.participant_id
                    WHERE p.status IN {covering} AND NOT EXISTS (SELECT 1 FROM {new} AS x WHERE x.id = p.id)
                    UNION ALL
                    SELECT o.regency_id, o.participant_id, o.campaign_id, o.district_id
                    FROM o JOIN touched t ON t.participant_id = o.participant_id),
         sides AS (SELECT 1 AS side, * FROM after UNION ALL SELECT -1, * FROM before),
         keys AS (
             SELECT DISTINCT side, regency_id, participant_id, 'r'::varchar AS scope,
                    NULL::bigint AS campaign_id, NULL::bigint AS district_id FROM sides
             UNION ALL SELECT DISTINCT side, regency_id, participant_id, 'c', campaign_id, NULL::bigint FROM sides
             UNION ALL SELECT DISTINCT side, regency_id, participant_id, 'd', NULL::bigint, district_id FROM sides)
    INSERT INTO donations_covertally AS t (regency_id, scope, campaign_id, district_id, participants)
    SELECT regency_id, scope, campaign_id, district_id, sum(side) FROM keys
    GROUP BY 1, 2, 3, 4 HAVING sum(side) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (regency_id, scope, campaign_id, district_id)
    DO UPDATE SET participants = t.participants + EXCLUDED.participants;
    RETURN NULL;
END;
"""

NONE = "(SELECT * FROM donations_pledge WHERE false)"
EVENTS = {  # event -> (REFERENCING clause, old rows, new rows)
    "insert": ("NEW TABLE AS new_pledges", NONE, "new_pledges"),
    "update": ("OLD TABLE AS old_pledges NEW TABLE AS new_pledges", "old_pledges", "new_pledges"),
    "delete": ("OLD TABLE AS old_pledges", "old_pledges", NONE),
}

FORWARD = """
UPDATE donations_pledge p SET district_id = x.district_id
FROM participants_participant x WHERE x.id = p.participant_id AND x.district_id IS NOT NULL;

CREATE FUNCTION donations_pledge_district() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.district_id IS NULL THEN
        SELECT x.district_id INTO NEW.district_id FROM participants_participant x WHERE x.id = NEW.participant_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER donations_pledge_district BEFORE INSERT ON donations_pledge
    FOR EACH ROW EXECUTE FUNCTION donations_pledge_district();
""" + "".join(
    f"""
CREATE FUNCTION donations_pledge_tally_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
{TALLY_BODY.format(old=old, new=new, covering=COVERING_SQL)}
$$;
CREATE TRIGGER donations_pledge_tally_{event} AFTER {event.upper()} ON donations_pledge
    REFERENCING {referencing}
    FOR EACH STATEMENT EXECUTE FUNCTION donations_pledge_tally_{event}();
"""
    for event, (referencing, old, new) in EVENTS.items()
) + REBUILD_SQL

BACKWARD = "".join(
    f"DROP TRIGGER donations_pledge_tally_{event} ON donations_pledge; DROP FUNCTION donations_pledge_tally_{event}();\n"
    for event in EVENTS
) + "DROP TRIGGER donations_pledge_district ON donations_pledge; DROP FUNCTION donations_pledge_district();\n"


class Migration(migrations.Migration):

    dependencies = [
        ('donations', '0014_pledge_list_indexes'),
        ('regencies', '0005_regency_retention_years'),
    ]

    operations = [
        migrations.AddField(
            model_name='pledge',
            name='district',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.district'),
        ),
        migrations.CreateModel(
            name='CoverTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(choices=[('r', 'regency'), ('c', 'campaign'), ('d', 'district')], max_length=1)),
                ('participants', models.BigIntegerField(default=0)),
                ('campaign', models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='donations.campaign')),
                ('district', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='regencies.district')),
                ('regency', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency')),
            ],
            options={
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
                'constraints': [models.UniqueConstraint(fields=('regency', 'scope', 'campaign', 'district'), name='covertally_key', nulls_distinct=False)],
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='PledgeTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('reserved', 'Dipesan'), ('pledged', 'Dijanjikan'), ('paid', 'Dibayar'), ('verified', 'Terverifikasi'), ('expired', 'Kedaluwarsa'), ('cancelled', 'Dibatalkan'), ('released', 'Dilepas'), ('disputed', 'Dipersoalkan')], max_length=10)),
                ('pledges', models.BigIntegerField(default=0)),
                ('rupiah', models.BigIntegerField(default=0)),
                ('campaign', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='donations.campaign')),
                ('regency', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency')),
            ],
            options={
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
                'constraints': [models.UniqueConstraint(fields=('regency', 'campaign', 'status'), name='pledgetally_key')],
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
