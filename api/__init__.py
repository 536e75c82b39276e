"""The outer layer: HTTP routes, authentication, the unit of work per request, the mapping from
domain errors to problem+json, and the `cho` command line. Thin: each route validates, calls one
service in `market/`, and returns a public schema."""
