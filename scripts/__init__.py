"""Helper scripts behind `make run` and `make test` (stdlib + the project's own dependencies)."""
