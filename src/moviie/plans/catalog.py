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

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moviie.errors import NotFound
from moviie.log import get_logger

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
_UNKNOWN_LOGGED: set[str] = set()
log = get_logger("moviie.plans")


class PlanNotFound(NotFound):
    code = "plan_not_found"


class PlansFileInvalid(ValueError):
    pass


def get_plan(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise PlanNotFound(f"No plan named {name!r}; one of: {', '.join(PLANS)}.") from None


def account_plan(name: str) -> Plan:
    """The quotas of an account on plan `name`. A plan no longer defined (taken out of
    MOVIIE_PLANS_FILE) gives the default plan's, logged once: the account keeps working and
    `moviie accounts set-plan` moves it on."""
    found = PLANS.get(name)
    if found is not None:
        return found
    if name not in _UNKNOWN_LOGGED:
        _UNKNOWN_LOGGED.add(name)
        log.warning("plan_not_defined", plan=name, instead=DEFAULT_PLAN)
    return PLANS[DEFAULT_PLAN]


def default_plan() -> str:
    return DEFAULT_PLAN


def _plan(name: str, fields: dict[str, Any]) -> Plan:
    known = {"storage_gib", "bandwidth_gib_month", "credits_month", "trial_days",
             "bandwidth_hard_limit"}  # fmt: skip
    unknown = set(fields) - known
    if unknown:
        raise PlansFileInvalid(f"plan {name!r}: unknown fields {sorted(unknown)}")
    try:
        sizes = [float(fields["storage_gib"]), float(fields["bandwidth_gib_month"])]
        credits_month = fields["credits_month"]
        trial = fields.get("trial_days")
        hard = fields.get("bandwidth_hard_limit", False)
    except (KeyError, TypeError, ValueError) as exc:
        raise PlansFileInvalid(f"plan {name!r}: missing or not a number: {exc}") from exc
    if not all(math.isfinite(v) and v >= 0 for v in sizes):
        raise PlansFileInvalid(f"plan {name!r}: sizes must be finite and not negative")
    if not isinstance(credits_month, int) or credits_month < 0:
        raise PlansFileInvalid(f"plan {name!r}: credits_month must be a whole number >= 0")
    if trial is not None and (not isinstance(trial, int) or trial < 1):
        raise PlansFileInvalid(f"plan {name!r}: trial_days must be a whole number >= 1")
    if not isinstance(hard, bool):
        raise PlansFileInvalid(f"plan {name!r}: bandwidth_hard_limit must be true or false")
    return Plan(
        name=name,
        storage_bytes=int(sizes[0] * GIB),
        bandwidth_bytes_month=int(sizes[1] * GIB),
        credits_month=credits_month,
        trial_days=trial,
        bandwidth_hard_limit=hard,
    )


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
    if not all(isinstance(fields, dict) for fields in table.values()):
        raise PlansFileInvalid(f"{path}: each plan is a table, [plans.<name>]")
    plans = {name: _plan(name, dict(fields)) for name, fields in table.items()}
    default = str(document.get("default", "trial" if "trial" in plans else next(iter(plans))))
    if default not in plans:
        raise PlansFileInvalid(f"{path}: the default plan {default!r} is not defined")
    PLANS.clear()
    PLANS.update(plans)
    DEFAULT_PLAN = default
