"""The audit trail's pure rules: what a record's canonical bytes are and how the chain links."""
