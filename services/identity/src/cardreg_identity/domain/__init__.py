"""Pure rules: ID numbers, names, places, normalisation, the anti-guessing policy."""
