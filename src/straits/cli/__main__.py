"""``python -m straits.cli`` (``python -m straits`` is the same)."""

from straits.cli import main

main()
