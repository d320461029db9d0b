"""Imported once by the forkserver that forks the scenario-checking workers, so each
worker starts with the scenario code loaded and the built-ins already read."""

from straits.web.checking import warm

warm()
