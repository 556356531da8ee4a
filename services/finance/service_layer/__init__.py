"""Load, decide, record: sign-in, and settlement actions each in one audited transaction."""
