"""nasuite.tabular: what an architecture is and what it costs to know its accuracy.

Light to import: torch is imported only by the modules that build or time networks.
"""

__version__ = "0.1.0"
