"""Pure functions from claim results to matplotlib figures (nothing here computes a result)."""
