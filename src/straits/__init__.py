"""straits: Short Straits freight-and-border corridor simulator."""

__version__ = "0.1.0"
