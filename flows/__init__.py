"""Prefect flows: wiring of the stages, no business logic."""
