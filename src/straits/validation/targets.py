"""What straits is validated against: published figures with sources and tolerances.

A target names the scenario that reproduces an event or a published study, the
headline quantity (a measure of one replication), the published value or range
(with its fact row in shared/domain/facts.md) and a tolerance that widens that
range into the band the ensemble mean must fall in. Tolerances are relative and
say why they are that wide.
"""

from __future__ import annotations

from dataclasses import dataclass

from straits.validation import measures
from straits.validation.measures import Measure


@dataclass(frozen=True)
class Target:
    """One published figure the model must reproduce."""

    key: str
    scenario: str
    quantity: str
    unit: str
    measure: Measure
    published_low: float
    published_high: float
    published_text: str
    facts: str
    source: str
    tolerance: float  # relative: the band is [low x (1 - tol), high x (1 + tol)]
    why_tolerance: str
    headline: bool = False

    @property
    def band(self) -> tuple[float, float]:
        """The range the ensemble mean must fall in to pass."""
        return (self.published_low * (1.0 - self.tolerance),
                self.published_high * (1.0 + self.tolerance))

    def passes(self, value: float) -> bool:
        low, high = self.band
        return low <= value <= high


_IMPERIAL = "Imperial College London (Dr Ke Han) for BBC Inside Out, 2018"
_F51_WHY = ("the study is a road-traffic model with cars in the queue and its own demand; "
            "straits queues lorries only")

TARGETS: tuple[Target, ...] = (
    Target(
        key="baseline-stack-days", scenario="baseline",
        quantity="days of Operation Stack in an ordinary week", unit="days",
        measure=measures.stack_days, published_low=0, published_high=0,
        published_text="0 (Stack is for disruption)", facts="F1.1, F2.1",
        source="HC 65 (2016): Stack is called when the crossings are disrupted",
        tolerance=0.0, why_tolerance="exact: an ordinary week must not open Stack",
    ),
    Target(
        key="baseline-daily-crossings", scenario="baseline",
        quantity="lorries crossing per day, southbound", unit="lorries/day",
        measure=measures.southbound_crossed_per_day, published_low=5400, published_high=5400,
        published_text="~5,400 each way", facts="F1.1",
        source="House of Commons Transport Committee, Operation Stack, HC 65 (2016)",
        tolerance=0.05, why_tolerance="'~' in the source; Poisson demand varies ~1% a week",
    ),
    Target(
        key="strike-stack-days", scenario="calais-strike-2015",
        quantity="days of Operation Stack, 23 June to 2 August 2015", unit="days",
        measure=measures.stack_days, published_low=28, published_high=32,
        published_text="28 (FTA) to 31-32 (DfT)", facts="F3.2",
        source="FTA; DfT Brock slides", tolerance=0.07,
        why_tolerance="about 2 days: sources disagree on what counts as a Stack day",
        headline=True,
    ),
    Target(
        key="strike-peak-held", scenario="calais-strike-2015",
        quantity="peak lorries held in Stack", unit="lorries",
        measure=measures.stack_peak_lorries, published_low=5000, published_high=5700,
        published_text="~5,700 (DfT); up to 5,000 queuing 18 h+", facts="F3.3",
        source="DfT; Independent on Sunday; FTA", tolerance=0.10,
        why_tolerance="rounded press figures",
    ),
    Target(
        key="strike-stack-wait", scenario="calais-strike-2015",
        quantity="mean delay of lorries held in Stack", unit="hours",
        measure=measures.stack_mean_wait_hours, published_low=18, published_high=18,
        published_text="average wait ~18 h", facts="F3.3",
        source="Independent on Sunday; FTA", tolerance=0.25,
        why_tolerance="one reported average, period not stated",
    ),
    Target(
        key="strike-queue-miles", scenario="calais-strike-2015",
        quantity="longest lorry queue in Kent", unit="miles",
        measure=measures.kent_queue_peak_miles, published_low=30, published_high=35,
        published_text="queues 30-35 miles", facts="F3.3",
        source="FTA; press", tolerance=0.15,
        why_tolerance="queue length from lorries x 20 m (F1.14) is itself approximate",
    ),
    Target(
        key="strike-recovery-day", scenario="calais-strike-2015",
        quantity="busiest day at the Port of Dover, both directions", unit="lorries",
        measure=measures.dover_busiest_day_lorries, published_low=9300, published_high=9300,
        published_text="9,300 in a day once traffic resumed", facts="F3.4, F1.3",
        source="Port of Dover (2015)", tolerance=0.15,
        why_tolerance="F1.3 gives busiest days up to ~10,000",
    ),
    Target(
        key="checks-2min", scenario="dover-checks-2018",
        quantity="evening-peak Dover-bound queue, 2 min checks", unit="miles",
        measure=measures.evening_peak_queue_miles, published_low=10, published_high=10,
        published_text="~10 miles", facts="F5.1",
        source=_IMPERIAL,
        tolerance=0.30, why_tolerance=_F51_WHY, headline=True,
    ),
    Target(
        key="checks-plus1", scenario="dover-checks-2018-plus1",
        quantity="evening-peak Dover-bound queue, +1 min checks", unit="miles",
        measure=measures.evening_peak_queue_miles, published_low=20, published_high=20,
        published_text="~20 miles", facts="F5.1",
        source=_IMPERIAL,
        tolerance=0.30, why_tolerance=_F51_WHY, headline=True,
    ),
    Target(
        key="checks-plus2", scenario="dover-checks-2018-plus2",
        quantity="evening-peak Dover-bound queue, +2 min checks", unit="miles",
        measure=measures.evening_peak_queue_miles, published_low=17, published_high=29.3,
        published_text="over 17 (Port of Dover) to ~29.3 miles (Imperial)", facts="F5.1, F5.2",
        source="Imperial College London for BBC Inside Out (2018); Port of Dover (2017)",
        tolerance=0.30, why_tolerance=_F51_WHY, headline=True,
    ),
    Target(
        key="rwcs-peak-queue", scenario="rwcs-2021",
        quantity="peak lorries queuing in Kent", unit="lorries",
        measure=measures.kent_queue_peak_lorries, published_low=6500, published_high=7000,
        published_text="up to 6,500 (January) to 7,000 (early February)", facts="F5.3",
        source="Cabinet Office letter to hauliers (September 2020)", tolerance=0.10,
        why_tolerance="a planning figure ('up to'), rounded", headline=True,
    ),
    Target(
        key="rwcs-longest-wait", scenario="rwcs-2021",
        quantity="longest wait of a lorry in Kent", unit="hours",
        measure=measures.max_wait_hours, published_low=48, published_high=48,
        published_text="up to ~2 days", facts="F5.3",
        source="Cabinet Office letter to hauliers (September 2020)", tolerance=0.25,
        why_tolerance="'up to ~2 days' is rounded to days",
    ),
    Target(
        key="summer-2023-peak-hour", scenario="dover-summer-2023",
        quantity="highest hourly mean border time, outbound cars at Dover, Sat 29 July 2023",
        unit="minutes", measure=measures.dover_car_border_peak_hour_minutes,
        published_low=150, published_high=150,
        published_text="the planned maximum of 2.5 h reached in one single hour", facts="F6.5",
        source="Port of Dover (9 Aug and 6 Sep 2023)", tolerance=0.30,
        why_tolerance="'reached' the planned maximum: a rounded planning figure, one hour; "
        "the car's per-person time is fitted to F6.5 (docs/validation.md)",
        headline=True,
    ),
    Target(
        key="summer-2023-mean", scenario="dover-summer-2023",
        quantity="mean border time, outbound cars at Dover, Sat 29 July 2023",
        unit="minutes", measure=measures.dover_car_border_mean_minutes,
        published_low=35, published_high=41,
        published_text="35 min that weekend; 41 min in peak hours over three weeks",
        facts="F6.5", source="Port of Dover (9 Aug and 6 Sep 2023)", tolerance=0.50,
        why_tolerance="the model runs the Saturday alone, the busiest day (F6.4); the "
        "published averages include the quieter Sunday or three weeks",
    ),
    Target(
        key="easter-2023-coaches", scenario="dover-easter-2023",
        quantity="border time of coaches reaching Dover around 04:00, Sat 1 April 2023",
        unit="hours", measure=measures.dover_coach_border_at_4am_hours,
        published_low=5, published_high=6,
        published_text="coach delays of 5-6 h at 04:00", facts="F6.6",
        source="BBC (1 Apr 2023); Port of Dover statement", tolerance=0.30,
        why_tolerance="a reported delay at one moment; coach arrival times and each coach "
        "passenger's time at the booth are assumptions (docs/validation.md)",
        headline=True,
    ),
)


def scenarios() -> list[str]:
    """The scenarios the targets need, in target order, each once."""
    return list(dict.fromkeys(t.scenario for t in TARGETS))


def headline(scenario: str) -> Target:
    """The target a scenario is built to reproduce (its first headline, else its first)."""
    mine = [t for t in TARGETS if t.scenario == scenario]
    return next((t for t in mine if t.headline), mine[0])
