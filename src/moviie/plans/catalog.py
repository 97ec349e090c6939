"""Plans differ only in quotas (storage, monthly bandwidth, monthly credits), never in features."""

from __future__ import annotations

from dataclasses import dataclass

from moviie.errors import NotFound

GIB = 1024**3


@dataclass(frozen=True)
class Plan:
    name: str
    storage_bytes: int
    bandwidth_bytes_month: int
    credits_month: int
    trial_days: int | None = None


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan("trial", 10 * GIB, 100 * GIB, 200, trial_days=14),
        Plan("starter", 100 * GIB, 1000 * GIB, 1000),
        Plan("growth", 1000 * GIB, 10000 * GIB, 5000),
        Plan("scale", 10000 * GIB, 100000 * GIB, 25000),
    )
}
DEFAULT_PLAN = "trial"


class PlanNotFound(NotFound):
    code = "plan_not_found"


def get_plan(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise PlanNotFound(f"No plan named {name!r}; one of: {', '.join(PLANS)}.") from None
