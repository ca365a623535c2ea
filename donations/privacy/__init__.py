"""Data-subject rights under UU 27/2022 (personal data protection).

Why here: what the system holds about a participant spans participants (identity, the arrears
history, correction requests), assessments (answers, evidence) and donations (pledges, payments).
`donations` is the highest app that exists and may read all three (layers: participants <
assessments < donations); `participants` may not import the other two. The models these services
write that belong to the participant (`CorrectionRequest`, `Anonymisation`) live in the
participants app (`participants.privacy_models`).

- `subject`: a participant's data (export), correction requests, anonymisation.
- `donors`: a donor's own data (download) and account deletion.
- `retention`: the nightly purge (participants past the regency's retention period, uploaded
  files and leftovers of finished imports and statements).
- `views`: the pages (routes in `donations.urls`, under the participant's URL).
"""
