"""Transform: pure functions from text to typed records (parsing, normalising, consensus, reconciliation)."""
