"""One-shot NAS (DARTS, GDAS, SPOS, hardware-aware DARTS) on a tiny supernet and synthetic data."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from suite.benchmarks import LiveBenchmark
from suite.errors import OneShotError, SearchSettingsError
from suite.oneshot import OneShotClock, get_oneshot, oneshot_names
from suite.oneshot.diagnostics import History, save_diagnostics
from suite.oneshot.gdas import gumbel_hard
from suite.oneshot.hardware import measure_latency_table
from suite.oneshot.supernet import SuperCell, build_supernet, check_space
from tabular.budget import get_budget
from tabular.models.nb201 import NB201Network, NetworkConfig
from tabular.spaces.base import SearchSpace
from tabular.spaces.nb201 import EDGES, OPS, NB201Space

#: the "tiny" preset (C=4, N=1, 16x16) on few images, so a supernet epoch takes well under a second
BUDGET = replace(get_budget("tiny"), train_size=400, valid_size=200)
#: a few steps per epoch
QUICK: dict[str, Any] = {"epochs": 2, "images_per_epoch": 128, "batch_size": 32}
SPACE = NB201Space()


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> LiveBenchmark:
    """An empty NB201 table on the synthetic data; derived cells are trained on demand."""
    path = tmp_path_factory.mktemp("oneshot") / "tiny.h5"
    return LiveBenchmark.create(
        path, space="nb201", dataset="synthetic", budget=BUDGET, hardware=False, save_every=0
    )


def run(name: str, bench: LiveBenchmark, seed: int = 0, clock: OneShotClock | None = None, **kw: Any) -> Any:
    return get_oneshot(name)(seed=seed, device="cpu", **{**QUICK, **kw}).search(bench, clock)


def test_registry_names_every_strategy_with_its_paper() -> None:
    assert set(oneshot_names()) == {"darts-v1", "darts-v2", "gdas", "spos", "darts-latency"}
    for name in oneshot_names():
        assert get_oneshot(name).paper and get_oneshot(name).name == name


def test_supernet_reuses_the_table_network_and_its_subnets_are_the_table_cells() -> None:
    config = NetworkConfig(channels=4, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
    torch.manual_seed(0)
    net = build_supernet(SPACE, config)
    assert sum(isinstance(m, SuperCell) for m in net.modules()) == 3  # one cell per stage
    arch = SPACE.from_str(
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
    )
    standalone = NB201Network(arch, config)
    standalone.load_state_dict(net.subnet_state(arch), strict=True)  # same parameter shapes and names
    x = torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    net.eval(), standalone.eval()
    with torch.no_grad():
        assert torch.allclose(net(x, path=arch), standalone(x), atol=1e-6)
        # a one-hot mixture is the same single path
        one_hot = torch.nn.functional.one_hot(torch.tensor(arch), len(OPS)).float()
        assert torch.allclose(net(x, weights=one_hot), standalone(x), atol=1e-6)


def test_mixture_gives_every_architecture_parameter_a_gradient() -> None:
    config = NetworkConfig(channels=4, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
    torch.manual_seed(0)
    net = build_supernet(SPACE, config)
    alpha = (1e-3 * torch.randn(len(EDGES), len(OPS))).requires_grad_()
    x, y = torch.randn(8, 1, 16, 16), torch.randint(0, 10, (8,))
    torch.nn.functional.cross_entropy(net(x, weights=alpha.softmax(-1)), y).backward()
    assert alpha.grad is not None and (alpha.grad.abs() > 0).all()  # 'none' too, through the softmax


def test_darts_alphas_move_and_the_derived_string_is_a_valid_cell(bench: LiveBenchmark) -> None:
    for name in ("darts-v1", "darts-v2"):
        result = run(name, bench)
        softmaxes = np.array([r["alpha_softmax"] for r in result.history])
        assert softmaxes.shape == (2, len(EDGES), len(OPS))
        moved = np.abs(np.array(result.extra["alpha"]) - np.array(result.extra["alpha_init"]))
        assert moved.min() > 0 and moved.max() > 1e-4  # every parameter got a gradient and moved
        assert not np.allclose(softmaxes[0], softmaxes[1])  # and kept moving
        assert SPACE.from_str(result.arch) == SPACE.from_index(result.index)
        assert result.history[-1]["derived"] == result.arch  # last epoch's argmax is the answer
        # the derived cell is scored by training it under the table's budget (a live table)
        assert 0 <= result.accuracy <= 100 and result.report == "test@1" and "live" in result.accuracy_source
        assert result.skip_share == pytest.approx(SPACE.from_str(result.arch).count(1) / 6)
        assert result.regret == pytest.approx(result.optimum - result.accuracy)


def test_second_order_differs_from_first_order(bench: LiveBenchmark) -> None:
    v1, v2 = run("darts-v1", bench, epochs=1), run("darts-v2", bench, epochs=1)
    assert v1.extra["alpha"] != v2.extra["alpha"]  # the unrolled gradient is a different gradient


def test_same_seed_on_cpu_derives_the_same_cell(bench: LiveBenchmark) -> None:
    for name in ("darts-v1", "gdas"):
        a, b = run(name, bench, seed=3), run(name, bench, seed=3)
        assert a.arch == b.arch and a.extra["alpha"] == b.extra["alpha"]
        assert [r["alpha_softmax"] for r in a.history] == [r["alpha_softmax"] for r in b.history]
    other = run("gdas", bench, seed=4)
    assert other.extra["alpha"] != a.extra["alpha"]  # the seed is what fixed them


def test_gdas_runs_exactly_one_op_per_edge_per_forward() -> None:
    config = NetworkConfig(channels=4, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
    torch.manual_seed(0)
    net = build_supernet(SPACE, config)
    calls: list[tuple[int, int, int]] = []
    for c, cell in enumerate(m for m in net.modules() if isinstance(m, SuperCell)):
        for e in range(len(EDGES)):
            for o in range(len(OPS)):
                module = cell.ops[e][o].op  # type: ignore[index]
                if module is not None:
                    module.register_forward_hook(lambda *_, c=c, e=e, o=o: calls.append((c, e, o)))
    alpha = torch.randn(len(EDGES), len(OPS)).requires_grad_()
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(20):
        one_hot, index = gumbel_hard(alpha, tau=1.0, generator=gen)
        assert torch.equal(one_hot.detach().sum(-1), torch.ones(len(EDGES)))
        assert torch.equal(one_hot.detach().argmax(-1), index)
        path = [int(i) for i in index]
        seen.add(tuple(path))
        calls.clear()
        scale = one_hot[torch.arange(len(EDGES)), index]
        out = net(torch.randn(2, 1, 16, 16), path=path, scale=scale)
        # per cell: one module call for each edge whose sampled op has a module, and none for others
        expected = {
            (c, e, path[e])
            for c in range(3)
            for e in range(len(EDGES))
            if OPS[path[e]] not in ("none", "skip_connect")
        }
        assert sorted(calls) == sorted(expected)
        alpha.grad = None
        out.sum().backward()
        assert alpha.grad is not None and alpha.grad.abs().sum() > 0  # straight-through gradient
    assert len(seen) > 1  # the samples vary


def test_gdas_tau_anneals_from_10_to_0_1(bench: LiveBenchmark) -> None:
    result = run("gdas", bench, epochs=3)
    assert [r["tau"] for r in result.history] == pytest.approx([10.0, 5.05, 0.1])
    assert SPACE.from_str(result.arch) == SPACE.from_index(result.index)


def test_spos_evolution_keeps_its_best_and_scores_by_inherited_weights(bench: LiveBenchmark) -> None:
    result = run("spos", bench, population=6, generations=2, parents=3, eval_images=200, eval_batch=100)
    trace = result.extra["evolution"]
    assert len(trace) == 3
    best = [t["valid_acc"] for t in trace]
    assert best == sorted(best)  # parents survive: the best never gets worse
    assert trace[-1]["best"] == result.arch
    assert {"weights", "architecture"} <= set(result.phases)
    assert all(r["alpha_softmax"] is None for r in result.history)


def test_clock_is_charged_the_measured_time_with_the_device(bench: LiveBenchmark) -> None:
    clock = OneShotClock()
    clock.charge("earlier", 1.5)  # a clock carries what it was charged before
    start = time.perf_counter()
    result = run("darts-v1", bench, clock=clock)
    wall = time.perf_counter() - start
    assert clock.device == result.device == "cpu"
    assert {"weights", "architecture", "derive"} <= set(clock.phases)
    assert result.search_seconds == clock.seconds == pytest.approx(sum(clock.phases.values()))
    measured = clock.seconds - 1.5
    assert 0 < measured <= wall  # real time of the search, not more than it took
    assert sum(r["seconds"] for r in result.history) <= measured
    assert result.gpu_days > 0 and result.gpu_days_assumption


def test_a_budget_stops_the_search_after_the_epoch_that_crosses_it(bench: LiveBenchmark) -> None:
    result = run("darts-v1", bench, clock=OneShotClock(budget_seconds=1e-6), epochs=3)
    assert result.epochs_run == 1 and result.stopped_early


def test_latency_variant_meets_its_target_by_prediction_and_reports_the_measurement(
    bench: LiveBenchmark,
) -> None:
    config = NetworkConfig(channels=4, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
    table = measure_latency_table(config, batch=1, threads=1, repeats=5)
    conv3 = table.predict((OPS.index("nor_conv_3x3"),) * 6)
    smallest = table.smallest_cell_ms(SPACE)
    assert table.base_ms < smallest < conv3
    target = smallest + 0.3 * (conv3 - smallest)
    result = run("darts-latency", bench, latency_target_ms=target, latency_repeats=5)
    extra = result.extra
    assert extra["predicted_ms"] <= target and extra["measured_ms"] > 0
    assert extra["meets_target"] == (extra["measured_ms"] <= target)
    assert not SPACE.is_degenerate(SPACE.from_str(result.arch))
    assert "latency_table" in result.phases
    # a latency term that drowns the loss pushes every edge towards 'none': still never the empty cell
    heavy = run("darts-latency", bench, latency_weight=1000.0, arch_lr=0.05, latency_repeats=5)
    assert np.array(heavy.extra["alpha"]).argmax(-1).tolist().count(0) >= 3
    assert not SPACE.is_degenerate(SPACE.from_str(heavy.arch)) and heavy.extra["meets_target"] is None


def test_bad_inputs_raise_typed_errors(bench: LiveBenchmark) -> None:
    class Chain(SearchSpace):  # a space with no supernet
        name = "chain"
        cardinalities = (3, 3, 3)

    config = NetworkConfig(channels=4, cells_per_stage=1, in_channels=1, num_classes=10, resolution=16)
    with pytest.raises(OneShotError, match="no weight-sharing supernet"):
        build_supernet(Chain(), config)
    with pytest.raises(OneShotError):
        check_space(Chain())
    # a dataset split with no valid images
    from tabular.builder.worker import load_build_data

    data = load_build_data(bench.spec)
    empty = dataclasses.replace(data, x_valid=data.x_valid[:0], y_valid=data.y_valid[:0])
    with pytest.raises(OneShotError, match="no valid images"):
        get_oneshot("darts-v1")(**QUICK).search(bench, data=empty)
    # a latency target below the cheapest cell
    with pytest.raises(OneShotError, match="below the smallest cell"):
        run("darts-latency", bench, latency_target_ms=1e-6, latency_repeats=5)
    with pytest.raises(SearchSettingsError, match="unknown settings"):
        get_oneshot("gdas")(temperature=3)
    with pytest.raises(SearchSettingsError, match="epochs"):
        get_oneshot("darts-v1")(epochs=0)
    with pytest.raises(SearchSettingsError, match="tau_min"):
        get_oneshot("gdas")(tau_min=5.0, tau_max=1.0)
    with pytest.raises(SearchSettingsError, match="latency_statistic"):
        get_oneshot("darts-latency")(latency_statistic="mean")


def test_diagnostics_are_saved_and_plotted(bench: LiveBenchmark, tmp_path: Path) -> None:
    result = run("darts-v1", bench)
    files = save_diagnostics(History(list(result.history)), tmp_path, "darts")
    with np.load(files["alphas"]) as saved:
        assert saved["alpha_softmax"].shape == (2, len(EDGES), len(OPS))
        assert np.allclose(saved["alpha_softmax"].sum(-1), 1, atol=1e-4)
    assert Path(files["plot"]).stat().st_size > 1000 and Path(files["history"]).is_file()
    record = result.history[0]
    for key in ("train_loss", "train_acc", "valid_loss", "valid_acc", "derived"):
        assert record[key] is not None and (not isinstance(record[key], float) or math.isfinite(record[key]))


def test_cli_runs_a_search_and_writes_its_diagnostics(
    bench: LiveBenchmark, tmp_path: Path, capsys: Any
) -> None:
    import json

    from suite.cli import main

    out = tmp_path / "out"
    argv = [
        "oneshot",
        "--benchmark",
        str(bench.path),
        "--strategy",
        "gdas",
        "--epochs",
        "2",
        "--device",
        "cpu",
    ]
    argv += ["--option", "images_per_epoch=64", "--option", "batch_size=32", "--out", str(out), "--json"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["strategy"] == "gdas" and SPACE.from_str(payload["arch"]) == SPACE.from_index(
        payload["index"]
    )
    assert payload["device"] == "cpu" and payload["search_seconds"] > 0
    assert {p.name for p in out.iterdir()} >= {"gdas-seed0-result.json", "gdas-seed0-alphas.png"}
    assert main(["oneshot", "--benchmark", str(bench.path), "--strategy", "enas", "--json"]) == 2
