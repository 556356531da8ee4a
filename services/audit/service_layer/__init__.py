"""Load, decide, record: append a consumed batch to the chain; verify the whole chain."""
