"""Calibration: fit free corridor values to every validation target at once, with an
ABC-style accepted set and leave-one-event-out cross-validation (docs/calibration.md)."""
