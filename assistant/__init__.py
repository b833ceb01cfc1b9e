"""The review assistant's domain: ingest, facts, answers and the CLI.

Importing this package is cheap: no model, store or heavy library is loaded here.
"""

__version__ = "0.1.0"
