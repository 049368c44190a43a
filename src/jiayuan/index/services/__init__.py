"""All writes of the index app: periods, derivation, imports, runs."""
