"""What every stage shares: typed records, settings, finding names, Thai text normalisation. Imports nothing
of the project."""
