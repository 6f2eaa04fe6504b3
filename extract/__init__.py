"""Extract: find raw dumps in the landing folder and read them (the only stage that reads raw files)."""
