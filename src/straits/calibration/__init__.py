"""Calibration: fit free corridor values to every validation target at once, with an
ABC-style accepted set and leave-one-event-out cross-validation (docs/calibration.md).

This file stays light (the CLI names the default spec without loading the engine)."""

DEFAULT_SPEC = "corridor-2015"  # the shipped spec of the shared corridor (builtin/)
