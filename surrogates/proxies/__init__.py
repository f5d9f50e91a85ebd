"""Zero-cost proxies: scores of an untrained network that are meant to rank trained accuracy.

``PROXIES`` holds every proxy by name; ``get_proxy("synflow")(model, inputs, targets, seed=0)``
scores one network on one batch (see :mod:`surrogates.proxies.base` for the contract), and
:func:`surrogates.proxies.compute.compute_proxies` fills a table's ``zero_cost`` arrays.

Registered here: synflow, snip, grasp, fisher, grad_norm (:mod:`.saliency`), jacob_cov,
naswot, zen (:mod:`.activation`), params and flops (:mod:`.cost`). A new proxy plugs in with
``@register_proxy("name")`` on a function ``(model, inputs, targets) -> float``.

Importing this package does not import torch; scoring does.
"""

from __future__ import annotations

from surrogates.proxies import activation, cost, saliency
from surrogates.proxies.base import (
    PROXIES,
    Proxy,
    ProxyConfigError,
    ProxyFn,
    ProxyWarning,
    get_proxy,
    proxy_names,
    register_proxy,
)

__all__ = [
    "PROXIES",
    "Proxy",
    "ProxyConfigError",
    "ProxyFn",
    "ProxyWarning",
    "activation",
    "cost",
    "get_proxy",
    "proxy_names",
    "register_proxy",
    "saliency",
]
