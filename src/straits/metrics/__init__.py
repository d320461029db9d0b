"""KPIs and time series: pure functions of records (and the scenario)."""

from straits.metrics.kpis import summarise
from straits.metrics.timeseries import holding_timeseries, lorry_table

__all__ = ["holding_timeseries", "lorry_table", "summarise"]
