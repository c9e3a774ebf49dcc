"""ETL for the US local ICE cooperation dataset: raw YAML records -> validated, published tables."""

__version__ = "0.1.0"
