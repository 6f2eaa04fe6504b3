"""schoolnet: ETL pipeline and warehouse for BMA school-network project reports."""

__version__ = "0.1.0"
