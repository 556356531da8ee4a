"""The Puhui services: one package each, thin consumers over the shared engine."""
