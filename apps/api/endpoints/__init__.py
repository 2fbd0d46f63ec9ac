"""The REST API's endpoints, one module per resource (see apps/api/base.py for how to add one)."""
