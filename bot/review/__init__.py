"""`backcheck review`: the whole check as one page for a clinician's sign-off, what changed
since an older version, and the content version the bots can be pinned to."""
