"""Money of the pledge flow: payments and their receipts, the ledger, bank statements, payment
providers and hand-overs to BPJS. `payments.payment_apply` is the one place a payment is written."""
