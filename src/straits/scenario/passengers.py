"""Cars and coaches: vehicle classes beside the lorries, and the demand calendar.

Lorries (class ``hgv``) are the corridor schema's own demand and stages. A
passenger class adds its own demand per direction and route, the people each
vehicle carries, its length on a deck, and its path through each terminal it
uses: its own banks of booths (Dover's tourist controls are separate from the
freight ones) or a lorry stage it shares. A scenario without ``passengers``
runs exactly as a lorry-only one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, model_validator

from straits.scenario.common import (
    DayOfWeekWeights,
    Fraction,
    HourOfDayWeights,
    Name,
    StrictModel,
)
from straits.scenario.distributions import ServiceTime
from straits.scenario.units import Minutes, minutes_between

PASSENGER_CLASSES: tuple[str, ...] = ("car", "coach")
"""Classes after ``hgv`` (index 0), in the order the engine numbers them."""

RegistrationMinutes = Annotated[Minutes, minutes_between(0.0, 120.0)]


class PeoplePerVehicle(StrictModel):
    """A discrete distribution of the people in one vehicle."""

    values: Annotated[list[Annotated[int, Field(ge=1, le=100)]], Field(min_length=1,
                                                                       max_length=100)]
    weights: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _same_length(self) -> PeoplePerVehicle:
        if len(self.values) != len(self.weights) or sum(self.weights) <= 0:
            raise ValueError("give one positive-summing weight per value")
        return self

    @property
    def mean(self) -> float:
        total = sum(self.weights)
        return sum(v * w for v, w in zip(self.values, self.weights, strict=True)) / total


class Registration(StrictModel):
    """First-time biometric registration (the Entry/Exit System): each person not
    yet registered adds ``minutes_per_person`` to the vehicle's service."""

    minutes_per_person: RegistrationMinutes
    share_registered: Fraction = 0.0


class ClassStage(StrictModel):
    """One step of a class's path: its own bank (``booths``, ``service_time``) or a
    lorry stage it shares (``shared_with_hgv``). ``per_person``: the service time
    is drawn for each person and added up (a coach of 50 at passport control);
    ``vehicle_overhead`` then adds a time per vehicle (pulling up, passports handed
    over and back), so a car of four is not four cars."""

    name: Name
    shared_with_hgv: bool = False
    booths: Annotated[int | None, Field(ge=0, le=500)] = None
    service_time: ServiceTime | None = None
    per_person: bool = False
    vehicle_overhead: ServiceTime | None = None
    registration: Registration | None = None

    @model_validator(mode="after")
    def _own_or_shared(self) -> ClassStage:
        if self.vehicle_overhead is not None and not self.per_person:
            raise ValueError("vehicle_overhead adds to per-person times: set per_person: "
                             "true, or fold it into service_time")
        if self.shared_with_hgv and self.booths is not None:
            raise ValueError("a shared stage uses the lorry stage's booths: drop booths")
        if not self.shared_with_hgv and (self.booths is None or self.service_time is None):
            raise ValueError("give booths and service_time, or shared_with_hgv: true")
        return self


class ClassDemand(StrictModel):
    """Vehicles of one class per day in one direction, shaped like the lorries'."""

    vehicles_per_day: Annotated[float, Field(ge=0, le=200_000)]
    hour_of_day: HourOfDayWeights
    day_of_week: DayOfWeekWeights
    shares: dict[Name, Fraction]


class VehicleClass(StrictModel):
    """A passenger class: demand, people, length, and its path at each terminal."""

    lane_metres: Annotated[float, Field(gt=0, le=40)]
    people_per_vehicle: PeoplePerVehicle
    southbound: ClassDemand | None = None
    northbound: ClassDemand | None = None
    stages: dict[Name, Annotated[list[ClassStage], Field(min_length=1, max_length=8)]]


class Passengers(StrictModel):
    """Cars and coaches, and what the lorries' decks and lanes are in lane-metres."""

    hgv_lane_metres: Annotated[float, Field(gt=0, le=40)]
    classes: dict[Literal["car", "coach"], VehicleClass]


# --- the demand calendar -----------------------------------------------------


class Holiday(StrictModel):
    """A span of dates (inclusive) whose demand is multiplied by ``factor`` per class."""

    name: str = ""
    first: date
    last: date
    factors: dict[Literal["hgv", "car", "coach"], Annotated[float, Field(ge=0, le=10)]]


MonthFactors = Annotated[list[Annotated[float, Field(ge=0, le=10)]],
                         Field(min_length=12, max_length=12)]


class Calendar(StrictModel):
    """Demand factors by month and date, shared by every class.

    ``builtin`` names a built-in calendar (``england``, ``france``); ``months``
    and ``holidays`` written here replace or add to its own. ``overrides`` set
    a date's factor outright. A day's factor is month × every holiday covering
    it (or its override).
    """

    builtin: str | None = None
    months: dict[Literal["hgv", "car", "coach"], MonthFactors] = {}
    holidays: list[Holiday] = []
    overrides: dict[date, dict[Literal["hgv", "car", "coach"],
                               Annotated[float, Field(ge=0, le=10)]]] = {}
