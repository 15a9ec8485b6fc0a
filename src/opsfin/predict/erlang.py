"""Erlang C: how many agents a queue of tickets needs to meet a service level (docs/predict.md "Staffing
roster"). Pure.

Tickets arrive at random (Poisson) at `arrivals_per_hour` and each takes `handling_minutes` on average;
with `agents` working, the probability that a ticket waits at all is Erlang C, and the share answered
within `answer_minutes` is 1 − C · exp(−(agents − traffic) · answer / handling) (Cooper, *Introduction to
Queueing Theory*, ch. 3). Traffic is arrivals × handling time, in erlangs."""

from __future__ import annotations

import math


def erlang_c(traffic: float, agents: int) -> float:
    """The probability that an arrival waits, for `traffic` erlangs offered to `agents` servers (1 when
    the agents cannot keep up). Computed through the Erlang B recursion, which never overflows."""
    if agents <= traffic:
        return 1.0
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(arrivals_per_hour: float, handling_minutes: float, agents: int, answer_minutes: float) -> float:
    """The share of tickets taken up within `answer_minutes`."""
    if arrivals_per_hour <= 0:
        return 1.0
    traffic = arrivals_per_hour * handling_minutes / 60
    waits = erlang_c(traffic, agents)
    if waits >= 1.0:
        return 0.0
    return 1 - waits * math.exp(-(agents - traffic) * answer_minutes / handling_minutes)


def agents_needed(arrivals_per_hour: float, handling_minutes: float, target: float, answer_minutes: float) -> int:
    """The fewest agents whose service level reaches `target` (0 when no ticket arrives)."""
    if arrivals_per_hour <= 0 or handling_minutes <= 0:
        return 0
    agents = max(1, math.ceil(arrivals_per_hour * handling_minutes / 60))
    while service_level(arrivals_per_hour, handling_minutes, agents, answer_minutes) < target:
        agents += 1
    return agents
