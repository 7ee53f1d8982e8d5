"""Assessment (考核): scoring schemes (appraisal_schemes), score sheets (score_sheets),
interviews (interviews) and the ranking with its export (ranking, ranking_export).
May call: accounts, shared."""
