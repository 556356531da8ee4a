"""The Kubernetes deployment (deploy/k8s/): manifests generated from the code's tables, and the
operators' CRD schemas made into JSON Schema for offline validation (docs/deploy.md)."""
