"""Pure xAPI rules: validation, equivalence, voiding, query parameters, ETags (no Flask, no SQL)."""
