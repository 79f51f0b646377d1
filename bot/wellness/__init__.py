"""Wellness channels: scheduled tips, opt-in follow-ups and anonymous totals (SPEC §7)."""
