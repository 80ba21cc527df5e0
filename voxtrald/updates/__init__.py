"""Update checks against GitHub releases, dismissals, and verified staging.

The daemon wires `checker.UpdateChecker` and `routes.register_routes`; the
CLI commands live in `cli`. Kept import-light so `voxtrald --help` does not
pay for requests.
"""
