"""Pure finance rules and values: roles, settlement rules, files, masking. No I/O here."""
