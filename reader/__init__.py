"""vnreader: Vietnamese news in, podcast out."""

__version__ = "0.1.0"
