"""Plans differ only in quotas (storage, monthly bandwidth, monthly credits), never in features.

The built-in plans below apply unless `MOVIIE_PLANS_FILE` names a TOML file of one's own:

    [plans.pro]
    storage_gib = 500
    bandwidth_gib_month = 5000
    credits_month = 2500
    bandwidth_hard_limit = false   # true: media past the month's bandwidth answer 402
    [plans.trial]
    storage_gib = 5
    bandwidth_gib_month = 50
    credits_month = 100
    trial_days = 14                # a trial: new accounts start on the plan named by `default`
    # default = "trial" (at the top level)

The file replaces the built-in plans whole; every process (API and workers) reads the same."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moviie.errors import NotFound

GIB = 1024**3


@dataclass(frozen=True)
class Plan:
    name: str
    storage_bytes: int
    bandwidth_bytes_month: int
    credits_month: int
    trial_days: int | None = None
    bandwidth_hard_limit: bool = False


BUILT_IN: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan("trial", 10 * GIB, 100 * GIB, 200, trial_days=14),
        Plan("starter", 100 * GIB, 1000 * GIB, 1000),
        Plan("growth", 1000 * GIB, 10000 * GIB, 5000),
        Plan("scale", 10000 * GIB, 100000 * GIB, 25000),
    )
}
PLANS: dict[str, Plan] = dict(BUILT_IN)
DEFAULT_PLAN = "trial"


class PlanNotFound(NotFound):
    code = "plan_not_found"


class PlansFileInvalid(ValueError):
    pass


def get_plan(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise PlanNotFound(f"No plan named {name!r}; one of: {', '.join(PLANS)}.") from None


def default_plan() -> str:
    return DEFAULT_PLAN


def _plan(name: str, fields: dict[str, Any]) -> Plan:
    known = {"storage_gib", "bandwidth_gib_month", "credits_month", "trial_days",
             "bandwidth_hard_limit"}  # fmt: skip
    unknown = set(fields) - known
    if unknown:
        raise PlansFileInvalid(f"plan {name!r}: unknown fields {sorted(unknown)}")
    try:
        trial = fields.get("trial_days")
        return Plan(
            name=name,
            storage_bytes=int(float(fields["storage_gib"]) * GIB),
            bandwidth_bytes_month=int(float(fields["bandwidth_gib_month"]) * GIB),
            credits_month=int(fields["credits_month"]),
            trial_days=int(trial) if trial else None,
            bandwidth_hard_limit=bool(fields.get("bandwidth_hard_limit", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlansFileInvalid(f"plan {name!r}: {exc}") from exc


def load_plans(path: Path | None) -> None:
    """Use the plans of `path` (None: the built-in ones). Raises PlansFileInvalid."""
    global DEFAULT_PLAN
    if path is None:
        PLANS.clear()
        PLANS.update(BUILT_IN)
        DEFAULT_PLAN = "trial"
        return
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlansFileInvalid(f"{path}: {exc}") from exc
    table = document.get("plans")
    if not isinstance(table, dict) or not table:
        raise PlansFileInvalid(f"{path}: no [plans.<name>] tables")
    plans = {name: _plan(name, dict(fields)) for name, fields in table.items()}
    default = str(document.get("default", "trial" if "trial" in plans else next(iter(plans))))
    if default not in plans:
        raise PlansFileInvalid(f"{path}: the default plan {default!r} is not defined")
    PLANS.clear()
    PLANS.update(plans)
    DEFAULT_PLAN = default
