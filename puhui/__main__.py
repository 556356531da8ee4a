"""`python -m puhui` is the `puhui` command."""

from puhui.cli import main

main()
