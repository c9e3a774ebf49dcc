"""`python -m etl` runs the `etl` command."""

from .cli import main

main()
