"""Bounds on scenario input: what is physically meaningful and what reading may cost.

Every scenario (a file, a web upload, a sweep point, a built-in) is read and
validated against these before any simulation starts, and a value outside
them is refused with one line naming the field. They are named here once so
the loader, the schema, the web and docs/scenarios.md cite the same numbers.
"""

from __future__ import annotations

# --- reading a document -----------------------------------------------------------
MAX_DOCUMENT_BYTES = 256 * 1024
"""A scenario file or upload, after ``extends`` is not counted (each file on its own)."""
MAX_NESTING_DEPTH = 20
"""Mappings and lists inside each other (the built-ins need 8)."""
MAX_YAML_NODES = 50_000
"""Values in a document with every alias expanded (so anchors cannot multiply work)."""
MAX_EXTENDS_DEPTH = 8
"""Files a scenario may extend in a chain."""

# --- times ------------------------------------------------------------------------
MAX_HORIZON_MINUTES = 366 * 1440.0
MAX_DURATION_MINUTES = MAX_HORIZON_MINUTES
"""No duration written with a unit may exceed the longest horizon."""
MIN_CROSSING_MINUTES = 10.0
MAX_CROSSING_MINUTES = 1440.0
MIN_TURNAROUND_MINUTES = 10.0
"""A ship unloads and loads before it sails again (F1.4: about 45 min)."""
MAX_TURNAROUND_MINUTES = 1440.0
MIN_DEPARTURES_PER_HOUR = 0.01
"""A shuttle service runs at least once in 100 hours (and at most once a minute)."""
MIN_MEAN_SERVICE_MINUTES = 1 / 60
"""A random service time has a mean of at least a second."""
MAX_SERVICE_MINUTES = 1440.0
"""No booth holds a lorry for more than a day (service times, added check time)."""
FIRST_START_YEAR = 1900
LAST_START_YEAR = 2200

# --- numbers ----------------------------------------------------------------------
MAX_WEIGHT = 1e6
"""Relative weights (hour of day, day of week, empirical values); all must be finite."""
MAX_DEMAND_FACTOR = 10.0
"""The product of demand shocks that may overlap at any time, per direction."""
MAX_SECURITY_RATE = 1e6
"""Unbounded security levers (half-saturation, police scale, weights, elasticity)."""
MAX_COST_GBP = 1e9
"""Any unit cost of a security measure."""
MIN_LORRY_SPACING_M = 5.0
"""Road length one queued lorry takes (F1.14: about 20 m), at least its own length."""

# --- counts -----------------------------------------------------------------------
MAX_ROUTES = 10
MAX_TERMINALS = 20
MAX_VESSEL_CLASSES = 20
MAX_HOLDING_AREAS = 50
MAX_DISRUPTIONS = 500
MAX_SECURITY_CHANGES = 200
MAX_REPORT_PERIODS = 50
MAX_EMPIRICAL_VALUES = 10_000
MAX_TEXT_CHARACTERS = 2_000
"""Free text: descriptions, display names, road names."""
