"""The corridor engine: scenario → model → records. Knows no files or screens."""

from straits.engine.records import DirectionRecords, Records
from straits.engine.replication import run_replication

__all__ = ["DirectionRecords", "Records", "run_replication"]
