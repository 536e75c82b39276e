"""`python -m api` runs the `cho` command."""

from api.cli import app

app(prog_name="cho")
