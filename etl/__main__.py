"""`python -m etl` runs the `etl` command."""

from .launcher import main

main()
