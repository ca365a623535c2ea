"""Money: payment routes, exact fulfilment, receipts, the ledger, bank statements, provider
notifications and hand-overs to BPJS.

Existing rows are brought along: every pledge gets its own payment code and the sum of its
payments; every payment a receipt number (per regency and year of its recording, in the regency's
time zone, in the order recorded) and two ledger rows (received, and handed over straight into the
family VA: every campaign so far was of the direct route)."""

import django.db.models.deletion
import django.db.models.manager
import donations.models
from django.conf import settings
from django.db import migrations, models

from core.append_only import append_only


BACKFILL = """
UPDATE donations_pledge
   SET payment_code = 'SU' || translate(upper(substr(md5(random()::text || id::text), 1, 8)), '01', 'XY');
UPDATE donations_pledge p SET paid_amount = s.total
  FROM (SELECT pledge_id, sum(amount)::bigint AS total FROM donations_payment GROUP BY pledge_id) s
 WHERE s.pledge_id = p.id;
WITH n AS (
    SELECT y.id, y.regency_id, r.code,
           extract(year FROM y.created_at AT TIME ZONE r.timezone)::int AS yr
      FROM donations_payment y JOIN regencies_regency r ON r.id = y.regency_id
), numbered AS (
    SELECT n.*, row_number() OVER (PARTITION BY regency_id, yr ORDER BY id) AS rn FROM n
), upd AS (
    UPDATE donations_payment y
       SET receipt_number = 'KW/' || numbered.code || '/' || numbered.yr || '/' || lpad(numbered.rn::text, 6, '0')
      FROM numbered WHERE numbered.id = y.id
)
INSERT INTO donations_receiptcounter (regency_id, year, last)
SELECT regency_id, yr, max(rn) FROM numbered GROUP BY regency_id, yr;
INSERT INTO donations_ledgerentry (regency_id, campaign_id, kind, source, amount, pledge_id, payment_id,
                                   note, created_at)
SELECT y.regency_id, p.campaign_id, k.kind, k.source, y.amount, y.pledge_id, y.id, '', y.created_at
  FROM donations_payment y JOIN donations_pledge p ON p.id = y.pledge_id
 CROSS JOIN (VALUES ('received', 'donor'), ('handed_over', 'direct_va')) AS k(kind, source)
 ORDER BY y.id, k.kind DESC;
-- the deferred foreign-key checks of these writes now, so that the constraints below may alter the tables
SET CONSTRAINTS ALL IMMEDIATE;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('donations', '0009_pledge_status_changes_are_hot'),
        ('participants', '0003_byte_collation_for_identifiers'),
        ('regencies', '0003_treasurer_role'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BankStatement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(max_length=255, upload_to=donations.models.statement_upload_path)),
                ('original_name', models.CharField(blank=True, max_length=255)),
                ('sha256', models.CharField(max_length=64)),
                ('status', models.CharField(choices=[('queued', 'Menunggu'), ('processing', 'Diproses'), ('done', 'Selesai'), ('rejected', 'Ditolak')], default='queued', max_length=12)),
                ('lines', models.PositiveIntegerField(default=0)),
                ('matched', models.PositiveIntegerField(default=0)),
                ('unmatched', models.PositiveIntegerField(default=0)),
                ('duplicates', models.PositiveIntegerField(default=0)),
                ('amount_matched', models.BigIntegerField(default=0)),
                ('errors', models.JSONField(blank=True, default=list)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name': 'mutasi rekening',
                'verbose_name_plural': 'mutasi rekening',
                'ordering': ['-created_at', '-id'],
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='Handover',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=40, verbose_name='nomor')),
                ('status', models.CharField(choices=[('draft', 'Disiapkan'), ('transferred', 'Sudah ditransfer')], default='draft', max_length=12)),
                ('families', models.PositiveIntegerField(default=0)),
                ('total', models.BigIntegerField(default=0)),
                ('reference', models.CharField(blank=True, max_length=64, verbose_name='referensi transfer')),
                ('transferred_at', models.DateField(blank=True, null=True, verbose_name='tanggal transfer')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'penyerahan ke BPJS',
                'verbose_name_plural': 'penyerahan ke BPJS',
                'ordering': ['-created_at', '-id'],
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='HandoverLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('va_number', models.CharField(max_length=16)),
                ('members', models.PositiveSmallIntegerField(default=1)),
                ('amount', models.BigIntegerField()),
            ],
            options={
                'ordering': ['handover', 'id'],
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('received', 'Diterima'), ('handed_over', 'Diserahkan ke BPJS'), ('refunded', 'Dikembalikan')], max_length=12)),
                ('source', models.CharField(choices=[('donor', 'Dilaporkan donatur'), ('bank_statement', 'Mutasi rekening'), ('provider', 'Gerbang pembayaran'), ('staff', 'Dicatat petugas'), ('direct_va', 'Langsung ke VA keluarga'), ('handover', 'Penyerahan ke BPJS'), ('refund', 'Pengembalian')], max_length=16)),
                ('amount', models.BigIntegerField()),
                ('note', models.CharField(blank=True, max_length=200)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'buku kas',
                'verbose_name_plural': 'buku kas',
                'ordering': ['id'],
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='ProviderNotification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(max_length=20)),
                ('transaction_id', models.CharField(max_length=100)),
                ('order_id', models.CharField(max_length=100)),
                ('transaction_status', models.CharField(max_length=20)),
                ('gross_amount', models.BigIntegerField(blank=True, null=True)),
                ('outcome', models.CharField(max_length=20)),
                ('body', models.JSONField(default=dict)),
                ('received_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'notifikasi pembayaran',
                'verbose_name_plural': 'notifikasi pembayaran',
                'ordering': ['-received_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ReceiptCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('last', models.PositiveIntegerField(default=0)),
            ],
            options={
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='StatementLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('row', models.PositiveIntegerField()),
                ('line_date', models.DateField()),
                ('description', models.CharField(blank=True, max_length=500)),
                ('amount', models.BigIntegerField()),
                ('reference', models.CharField(max_length=64)),
                ('outcome', models.CharField(choices=[('matched', 'Cocok'), ('unmatched', 'Tidak cocok'), ('duplicate', 'Sudah tercatat'), ('overpaid', 'Cocok, melebihi jumlah'), ('closed_pledge', 'Janji sudah ditutup')], max_length=14)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': 'baris mutasi',
                'verbose_name_plural': 'baris mutasi',
                'ordering': ['statement', 'row'],
                'abstract': False,
                'base_manager_name': 'all_regencies',
                'default_manager_name': 'all_regencies',
            },
            managers=[
                ('all_regencies', django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name='campaign',
            name='account_holder',
            field=models.CharField(blank=True, max_length=120, verbose_name='atas nama rekening'),
        ),
        migrations.AddField(
            model_name='campaign',
            name='account_number',
            field=models.CharField(blank=True, max_length=30, verbose_name='nomor rekening penampung'),
        ),
        migrations.AddField(
            model_name='campaign',
            name='bank_name',
            field=models.CharField(blank=True, max_length=60, verbose_name='bank rekening penampung'),
        ),
        migrations.AddField(
            model_name='campaign',
            name='payment_route',
            field=models.CharField(choices=[('direct', 'Langsung ke VA keluarga'), ('collected', 'Lewat rekening penampung kampanye')], default='direct', max_length=10, verbose_name='cara bayar'),
        ),
        migrations.AddField(
            model_name='payment',
            name='receipt_number',
            field=models.CharField(default='', max_length=40, verbose_name='nomor kuitansi'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='payment',
            name='source',
            field=models.CharField(choices=[('donor', 'Dilaporkan donatur'), ('bank_statement', 'Mutasi rekening'), ('provider', 'Gerbang pembayaran'), ('staff', 'Dicatat petugas')], default='donor', max_length=16, verbose_name='sumber'),
        ),
        migrations.AddField(
            model_name='pledge',
            name='lapse_notices',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='pledge',
            name='paid_amount',
            field=models.BigIntegerField(default=0, verbose_name='sudah dibayar (Rp)'),
        ),
        migrations.AddField(
            model_name='pledge',
            name='payment_code',
            field=models.CharField(db_collation='C', default=donations.models.new_payment_code, editable=False, max_length=12, verbose_name='kode pembayaran'),
        ),
        migrations.AddField(
            model_name='reconciliationsettings',
            name='payment_window_days',
            field=models.PositiveSmallIntegerField(default=14, help_text='Janji yang sudah dikonfirmasi tetapi belum dibayar sama sekali gugur setelah sekian hari.', verbose_name='batas pembayaran (hari)'),
        ),
        migrations.AddField(
            model_name='reconciliationsettings',
            name='reservations_per_day',
            field=models.PositiveSmallIntegerField(default=5, help_text='Pemesanan yang belum dikonfirmasi dibatasi sekian per donatur per hari.', verbose_name='pemesanan per donatur per hari'),
        ),
        migrations.AlterField(
            model_name='anomaly',
            name='kind',
            field=models.CharField(choices=[('disputed_payment', 'Pembayaran dipersoalkan'), ('import_contradicts_payment', 'Impor bertentangan dengan pembayaran'), ('family_partly_verified', 'Keluarga baru sebagian terverifikasi'), ('overpayment', 'Pembayaran melebihi jumlah janji'), ('partly_paid_overdue', 'Baru dibayar sebagian setelah batas pembayaran'), ('payment_on_closed_pledge', 'Uang masuk untuk janji yang sudah ditutup')], max_length=30, verbose_name='jenis'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='reconciliationsettings',
            constraint=models.CheckConstraint(condition=models.Q(('payment_window_days__gte', 3), ('payment_window_days__lte', 90)), name='reconciliation_payment_window_range'),
        ),
        migrations.AddConstraint(
            model_name='reconciliationsettings',
            constraint=models.CheckConstraint(condition=models.Q(('reservations_per_day__gte', 1), ('reservations_per_day__lte', 100)), name='reconciliation_reservations_per_day_range'),
        ),
        migrations.AddField(
            model_name='bankstatement',
            name='campaign',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='statements', to='donations.campaign'),
        ),
        migrations.AddField(
            model_name='bankstatement',
            name='regency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='bankstatement',
            name='uploaded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='handover',
            name='campaign',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers', to='donations.campaign'),
        ),
        migrations.AddField(
            model_name='handover',
            name='created_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='handover',
            name='regency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='pledge',
            name='handover',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='pledges', to='donations.handover'),
        ),
        migrations.AddIndex(
            model_name='pledge',
            index=models.Index(condition=models.Q(('handover__isnull', False)), fields=['handover'], name='pledge_handover'),
        ),
        migrations.AddConstraint(
            model_name='pledge',
            constraint=models.CheckConstraint(condition=models.Q(('paid_amount__gte', 0)), name='pledge_paid_amount_nonneg'),
        ),
        migrations.AddField(
            model_name='handoverline',
            name='family',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='participants.family'),
        ),
        migrations.AddField(
            model_name='handoverline',
            name='handover',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='donations.handover'),
        ),
        migrations.AddField(
            model_name='handoverline',
            name='regency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='campaign',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.campaign'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='handover',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.handover'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='payment',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.payment'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='pledge',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.pledge'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='regency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='settles',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.ledgerentry'),
        ),
        migrations.AddField(
            model_name='providernotification',
            name='payment',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.payment'),
        ),
        migrations.AddField(
            model_name='providernotification',
            name='regency',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='receiptcounter',
            name='regency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='payment',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.payment'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='pledge',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.pledge'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='regency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regencies.regency'),
        ),
        migrations.AddField(
            model_name='statementline',
            name='statement',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='line_rows', to='donations.bankstatement'),
        ),
        migrations.AddField(
            model_name='ledgerentry',
            name='statement_line',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='donations.statementline'),
        ),
        migrations.AddIndex(
            model_name='bankstatement',
            index=models.Index(fields=['regency', 'campaign', 'created_at'], name='statement_regency_campaign'),
        ),
        migrations.AddIndex(
            model_name='handover',
            index=models.Index(fields=['regency', 'campaign'], name='handover_regency_campaign'),
        ),
        migrations.AddConstraint(
            model_name='handover',
            constraint=models.UniqueConstraint(fields=('regency', 'number'), name='handover_number_unique'),
        ),
        migrations.AddConstraint(
            model_name='handoverline',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='handover_line_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='providernotification',
            constraint=models.UniqueConstraint(fields=('provider', 'transaction_id'), name='provider_notification_unique'),
        ),
        migrations.AddConstraint(
            model_name='receiptcounter',
            constraint=models.UniqueConstraint(fields=('regency', 'year'), name='receipt_counter_unique'),
        ),
        migrations.AddIndex(
            model_name='statementline',
            index=models.Index(fields=['statement', 'row'], name='statement_line_statement'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.UniqueConstraint(fields=('regency', 'line_date', 'reference', 'amount'), name='statement_line_unique'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='statement_line_amount_positive'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['regency', 'campaign', 'kind'], name='ledger_regency_campaign_kind'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(condition=models.Q(('payment__isnull', False)), fields=['payment'], name='ledger_payment'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(condition=models.Q(('settles__isnull', False)), fields=['settles'], name='ledger_settles'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='ledger_amount_positive'),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name='pledge',
            constraint=models.UniqueConstraint(fields=('payment_code',), name='pledge_payment_code_unique'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(fields=('regency', 'receipt_number'), name='payment_receipt_number_unique'),
        ),
        migrations.RunSQL(*append_only("donations_ledgerentry")),
    ]
