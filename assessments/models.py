"""Eligibility assessments (issue: assessments). Models arrive with that issue."""
