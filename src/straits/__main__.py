"""``python -m straits``: the same command line as ``straits``."""

from straits.cli import main

main()
