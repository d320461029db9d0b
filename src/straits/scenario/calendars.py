"""Built-in demand calendars and the factor of each day.

Month factors give the season (F1.12 for lorries: June–July high, August
quieter, December peak; F6.1–F6.4 for tourists: cars about double the yearly
mean in the summer holidays); holidays and bank holidays multiply on top;
a scenario's ``overrides`` set a date's factor outright. Factor sizes are an
assumption shaped by those rows; the dates are the published school and bank
holidays.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from straits.scenario.passengers import Calendar, Holiday

CLASSES = ("hgv", "car", "coach")

# assumption: sizes; shape F1.12 (hgv) and F6.1-F6.3 (cars: 1.7m a year, ~10,000/day in
# the 2023 summer holidays, i.e. about 2 x the yearly mean in August)
_MONTHS = {
    "hgv": [0.95, 0.97, 1.00, 0.98, 1.00, 1.05, 1.05, 0.92, 1.00, 1.02, 1.03, 1.08],
    "car": [0.50, 0.60, 0.75, 1.00, 0.90, 1.00, 1.70, 2.10, 1.00, 0.85, 0.60, 0.80],
    "coach": [0.50, 0.70, 0.90, 1.30, 1.10, 1.20, 1.50, 1.40, 0.90, 0.90, 0.60, 0.80],
}


def _span(name: str, first: str, last: str, hgv: float, car: float, coach: float) -> Holiday:
    return Holiday(name=name, first=date.fromisoformat(first), last=date.fromisoformat(last),
                   factors={"hgv": hgv, "car": car, "coach": coach})


# assumption: holiday factor sizes; dates: gov.uk school term and bank holiday dates
# (England), education.gouv.fr zone calendars (France)
_ENGLAND = [
    _span("Easter school holidays 2023", "2023-03-31", "2023-04-16", 0.95, 1.5, 2.0),
    _span("Good Friday 2023", "2023-04-07", "2023-04-07", 0.6, 1.2, 1.0),
    _span("Easter Monday 2023", "2023-04-10", "2023-04-10", 0.6, 1.1, 1.0),
    _span("Summer school holidays 2023", "2023-07-21", "2023-09-03", 1.0, 1.3, 1.2),
    _span("August bank holiday 2023", "2023-08-28", "2023-08-28", 0.6, 1.1, 1.0),
    _span("Christmas 2023", "2023-12-24", "2023-12-26", 0.3, 0.8, 0.5),
    _span("Easter school holidays 2026", "2026-03-28", "2026-04-12", 0.95, 1.5, 2.0),
    _span("Summer school holidays 2026", "2026-07-22", "2026-09-02", 1.0, 1.3, 1.2),
    _span("Christmas 2026", "2026-12-24", "2026-12-26", 0.3, 0.8, 0.5),
]
_FRANCE = [
    _span("Vacances d'été 2023", "2023-07-08", "2023-09-03", 1.0, 1.2, 1.1),
    _span("Vacances d'été 2026", "2026-07-04", "2026-08-31", 1.0, 1.2, 1.1),
    _span("Noël 2023", "2023-12-24", "2023-12-26", 0.3, 0.8, 0.5),
]
BUILTIN_CALENDARS: dict[str, list[Holiday]] = {"england": _ENGLAND, "france": _FRANCE}


def day_factor(calendar: Calendar, vehicle_class: str, day: date) -> float:
    """The demand factor of ``day`` for a class."""
    overrides = {str(k): v for k, v in calendar.overrides.get(day, {}).items()}
    if vehicle_class in overrides:
        return overrides[vehicle_class]
    months = {str(k): v for k, v in calendar.months.items()}.get(vehicle_class)
    if months is None:
        months = _MONTHS[vehicle_class] if calendar.builtin else [1.0] * 12
    factor = months[day.month - 1]
    holidays = BUILTIN_CALENDARS.get(calendar.builtin or "", []) + calendar.holidays
    for holiday in holidays:
        if holiday.first <= day <= holiday.last:
            factor *= {str(k): v for k, v in holiday.factors.items()}.get(vehicle_class, 1.0)
    return factor


def interval_factors(calendar: Calendar | None, vehicle_class: str, start_day: date,
                     day_index: np.ndarray) -> np.ndarray:
    """Factor of each interval, given its day counted from the start's midnight."""
    if calendar is None:
        return np.ones(day_index.shape[0])
    days = np.unique(day_index)
    factors = np.array([day_factor(calendar, vehicle_class, start_day + timedelta(days=int(d)))
                        for d in days])
    return factors[np.searchsorted(days, day_index)]
