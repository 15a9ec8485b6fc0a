"""The demo's process experiment and its placebo (docs/demo-company.md "An experiment and a placebo").

From a given month the lines of one plant (its work centres of kind `line`: machining and assembly) work
with a setup-reduction method: every setup drawn there from the start month on is cut by SETUP_CUT (the
simulation still draws it, so no other draw moves). The lines of another plant are the placebo: they get a
start month too, and nothing changes there. Which plants and which months come from the experiments' own
random stream (STREAM), never from the simulation's. Two treated units, not one: with a single treated
unit the interval of the difference-in-differences is too narrow (docs/experiments.md "The estimate").

The simulation tells `note` every routing step it records, with the setup it drew and the setup it ran;
the true effect is then exact, in the metric's own units: per treated work centre and month (by the
operation's end, as the KPI engine dates it) the value run less the value the same steps would have had
without the method, averaged over the treated work centres' months after the start (what the
difference-in-differences estimates: each treated unit-month weighs alike). The placebo's is 0.

Both are written to truth/experiments.json and, so that `opsfin experiment analyze <name>` works on a fresh
demo, to model/experiments.yaml. The controls are every other work centre whose routings' standard setups
are of the treated lines' size (their mean within a factor of 2: a work centre of 5-minute setups varies on
another scale and would understate the noise of 30-minute ones); the placebo's leave out the treated lines,
whose change would leak into them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import yaml

from ..core.periods import add_months
from ..evaluation.experiments import TRUTH_FILE
from .master import STAGES, Company

STREAM = 10  # np.random.default_rng([seed, STREAM]): the plants and months (docs/demo-company.md)
SETUP_CUT = 0.30  # the method saves 30 % of every setup's minutes
WINDOW = 6  # months before and after the start the experiments are analysed on (fewer on a short demo)
METRICS = ("setup_time", "cycle_time")
MODEL_FILE = "experiments.yaml"


@dataclass
class MonthSums:
    """One work centre's steps in a month: setup minutes run and drawn, setups, units processed."""

    setup: float = 0.0
    drawn: float = 0.0
    setups: int = 0
    units: float = 0.0


@dataclass
class DemoExperiments:
    """The treated and the placebo work centres, their start months, and the treated steps noted."""

    plant: str
    treated: list[str]
    start: dt.date
    placebo_plant: str
    placebo: list[str]
    placebo_start: dt.date
    window: int
    controls: list[str]  # the work centres whose standard setups are of the treated lines' size
    hourly_rate: Decimal  # the treated work centres' mean labour + variable overhead rate, EUR per hour
    months: dict[tuple[str, dt.date], MonthSums] = field(default_factory=dict)

    def setup(self, wc: str, day: dt.date, drawn: float) -> float:
        """The setup minutes a step on `wc` started on `day` runs: as drawn, cut on the treated work centres
        from the start month on."""
        if wc not in self.treated or day < self.start:
            return drawn
        return round(drawn * (1 - SETUP_CUT), 1)

    def note(self, wc: str, end_day: dt.date, setup: float, drawn: float, units: int) -> None:
        """A step recorded on `wc`, ending on `end_day` (the treated work centres' steps are summed)."""
        if wc not in self.treated:
            return
        sums = self.months.setdefault((wc, end_day.replace(day=1)), MonthSums())
        sums.setup += setup
        sums.drawn += drawn
        sums.setups += 1 if drawn > 0 else 0
        sums.units += units

    def true_effects(self) -> dict[str, float]:
        """Per metric, the mean over the treated work centres' after-months of (value run − value without
        the method): setup time's numerator is Σ setup over the setups, cycle time's Σ (setup + run) over
        the units, and the run minutes are the same either way."""
        after = [add_months(self.start, k) for k in range(self.window)]
        sums = [self.months[(wc, m)] for wc in self.treated for m in after if (wc, m) in self.months]
        setup = [(s.setup - s.drawn) / s.setups for s in sums if s.setups]
        cycle = [(s.setup - s.drawn) / s.units for s in sums if s.units]
        return {
            "setup_time": float(np.mean(setup)) if setup else 0.0,
            "cycle_time": float(np.mean(cycle)) if cycle else 0.0,
        }

    def names(self) -> tuple[str, str]:
        return f"setup_reduction_{self.plant}_lines", f"placebo_{self.placebo_plant}_lines"

    def truth_records(self) -> list[dict]:
        """truth/experiments.json: per experiment and metric the true effect in the metric's units."""
        effects = self.true_effects()
        real, placebo = self.names()
        w = self.window
        return [
            *(_truth(real, "experiment", self.treated, self.start, w, m, effects[m], -SETUP_CUT) for m in METRICS),
            *(_truth(placebo, "placebo", self.placebo, self.placebo_start, w, m, 0.0, 0.0) for m in METRICS),
        ]

    def model_entries(self) -> list[dict]:
        """The two entries of model/experiments.yaml."""
        real, placebo = self.names()
        minute = (self.hourly_rate / 60).quantize(Decimal("0.0001"))
        common = {"unit": "work_center", "before_months": self.window, "after_months": self.window}
        return [
            {
                "name": real,
                "description": f"setup reduction method on the lines of {self.plant} (demo: setups cut by "
                f"{SETUP_CUT:.0%} from {self.start:%Y-%m})",
                **common,
                "treated": self.treated,
                "control": [w for w in self.controls if w not in self.treated],
                "start": f"{self.start:%Y-%m}",
                "metrics": list(METRICS),
                "money": {
                    "setup_time": {
                        "unit_value": float(minute),  # a YAML number: 4 decimals, exact
                        "source": "mean labour and variable overhead rate per hour of "
                        f"{', '.join(self.treated)} (work_centers) ÷ 60",
                    }
                },
            },
            {
                "name": placebo,
                "description": f"placebo: nothing changed on the lines of {self.placebo_plant} at "
                f"{self.placebo_start:%Y-%m}",
                **common,
                "treated": self.placebo,
                "control": [w for w in self.controls if w not in self.treated and w not in self.placebo],
                "start": f"{self.placebo_start:%Y-%m}",
                "metrics": list(METRICS),
            },
        ]

    def write_truth(self, folder: Path) -> None:
        text = json.dumps(self.truth_records(), indent=2) + "\n"
        (folder / TRUTH_FILE).write_text(text, encoding="utf-8")

    def write_model(self, model_dir: Path) -> None:
        header = (
            "# The demo's process experiment and its placebo (docs/experiments.md, docs/demo-company.md).\n"
            "# Their true effects are in truth/experiments.json: `opsfin eval experiments` compares.\n"
        )
        entries = {"experiments": self.model_entries()}
        body = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=110)
        model_dir.mkdir(parents=True, exist_ok=True)
        (model_dir / MODEL_FILE).write_text(header + body, encoding="utf-8")


def plan_experiments(c: Company, seed: int) -> DemoExperiments:
    """The treated and placebo plants and their start months, from the experiments' own stream: each start
    leaves `window` months before it and after it (window = 6, or half a shorter demo)."""
    rng = np.random.default_rng([seed, STREAM])
    window = min(WINDOW, c.scale.months // 2)
    first, last = window, c.scale.months - window  # start month indices that leave the whole window
    plant, placebo_plant = (str(p) for p in rng.choice(c.plants, size=2, replace=False))
    start, placebo_start = (int(k) for k in rng.integers(first, last + 1, size=2))
    treated = _lines(c, plant)
    rates = [Decimal(c.wc_rates[wc][0] + c.wc_rates[wc][1]) / 10_000 for wc in treated]
    return DemoExperiments(
        plant,
        treated,
        add_months(c.scale.start, start),
        placebo_plant,
        _lines(c, placebo_plant),
        add_months(c.scale.start, placebo_start),
        window,
        _comparable(c, treated),
        sum(rates, Decimal(0)) / len(rates),
    )


def _comparable(c: Company, treated: list[str]) -> list[str]:
    """The work centres whose routing steps' mean standard setup is within a factor of 2 of the treated
    work centres' (the treated included)."""
    setups: dict[str, list[float]] = {}
    for steps in c.routing.values():
        for wc, setup, *_ in steps:
            if setup > 0:
                setups.setdefault(wc, []).append(setup)
    mean = {wc: float(np.mean(v)) for wc, v in setups.items()}
    size = float(np.mean([mean[wc] for wc in treated]))
    return [wc for wc in c.wc_ids if wc in mean and size / 2 <= mean[wc] <= size * 2]


def _lines(c: Company, plant: str) -> list[str]:
    """The work centres of `plant` whose stage is a line (master.STAGES)."""
    return [wc for wc in c.wc_ids if c.wc_site[wc] == plant and STAGES[c.wc_stage[wc]][2] == "line"]


def _truth(
    name: str, kind: str, units: list[str], start: dt.date, window: int, metric: str, effect: float, rel: float
) -> dict:
    return {
        "experiment": name,
        "kind": kind,
        "unit_dimension": "work_center",
        "treated": units,
        "start": f"{start:%Y-%m}",
        "before_months": window,
        "after_months": window,
        "metric": metric,
        "effect": effect,
        "relative_setup_change": rel,
    }
