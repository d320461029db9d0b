"""People and security near Calais, coupled both ways with the freight corridor.

An aggregate model (hourly counts, no personal data): the camp population,
attempts on lorries, the port and the tunnel site, barriers and detection
layers, outcomes and harm. See docs/security.md.
"""

from straits.security.coupling import CoupledRun, run_coupled
from straits.security.summary import security_summary, security_tables

__all__ = ["CoupledRun", "run_coupled", "security_summary", "security_tables"]
