"""``python -m straits.cli``."""

from straits.cli import main

main()
