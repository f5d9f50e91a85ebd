"""How well each stored zero-cost score ranks a table's trained cells (Abdelfattah et al. 2021).

The zero-cost proxies paper judges a proxy by the Spearman rank correlation between its score
and the trained accuracy over the cells of a benchmark; Mellor et al. (2021) and Lin et al.
(2021) use Kendall's tau as well. Here both are computed per proxy over the cells the table has
trained (one per isomorphism class on built tables, degenerate cells left out), and put beside
the table's own noise ceiling: the same correlation between two training seeds of those cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from surrogates.evaluation import kendall_tau, spearman_rho
from surrogates.report import evaluation_rows
from tabular.table import Table
from tabular.table.stats import class_rows


def proxy_correlations(table: Table, dataset: str, target: str) -> dict[str, Any]:
    """Spearman and Kendall of every stored proxy against ``target`` (e.g. ``test@2``)."""
    rows = evaluation_rows(table, dataset, target)
    truth = table.metric(dataset, target, rows=rows)
    proxies = {}
    for proxy in table.zero_cost_names(dataset):
        scores = table.zero_cost(dataset, proxy, rows=rows)
        scored = np.isfinite(scores)
        proxies[proxy] = {
            "cells": int(scored.sum()),
            "spearman_rho": spearman_rho(truth[scored], scores[scored]),
            "kendall_tau": kendall_tau(truth[scored], scores[scored]),
        }
    report: dict[str, Any] = {
        "dataset": dataset,
        "target": target,
        "cells": int(rows.size),
        "proxies": proxies,
    }
    seeds = [s for s in table.seeds(dataset) if s >= 0]
    if len(seeds) >= 2:
        both = class_rows(table, dataset, (seeds[0], seeds[1]))
        a = table.metric(dataset, target, seed=seeds[0], rows=both)
        b = table.metric(dataset, target, seed=seeds[1], rows=both)
        report["noise_ceiling"] = {
            "seeds": seeds[:2],
            "cells": int(both.size),
            "spearman_rho": spearman_rho(a, b),
            "kendall_tau": kendall_tau(a, b),
        }
    return report
