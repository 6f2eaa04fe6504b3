"""Synthetic corpora with known truth: the phenomena of the real dumps at measured rates."""
