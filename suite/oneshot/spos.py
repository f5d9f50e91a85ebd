"""SPOS: Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform Sampling", ECCV 2020.

Two decoupled stages. (1) Supernet training: every step trains one path, each edge's op drawn
uniformly at random (``none`` included, so that every NB201 cell is a subnet). (2) Evolutionary
search over subnets with the trained weights frozen: a random population is scored by
inherited-weight validation accuracy; each generation keeps the best ``parents`` and fills the
population with mutants (each edge resampled with probability ``mutation_prob``) and uniform
crossovers of two parents (SPOS section 3.3, algorithm 1), never re-scoring a cell.

Batch-norm statistics: SPOS recalibrates them on training data for each subnet. Here each
subnet is scored in training mode on valid batches of ``eval_batch`` images, i.e. with each
batch's own statistics: the cheapest recalibration, with no extra passes; the running buffers
the supernet keeps are never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from suite.errors import SearchSettingsError
from suite.oneshot.base import OneShotSettings, OneShotStrategy, register_oneshot
from suite.oneshot.diagnostics import History
from tabular.spaces.nb201 import OPS

if TYPE_CHECKING:
    from suite.oneshot.clock import OneShotClock
    from suite.oneshot.setup import OneShotSetup
    from suite.oneshot.supernet import SuperNet

Arch = tuple[int, ...]


@dataclass(frozen=True)
class SPOSSettings(OneShotSettings):
    """Supernet settings plus the evolutionary search (SPOS: population 50, 20 generations,
    top 10, mutation 0.1; scaled down here for a 15,625-cell space and a CPU)."""

    population: int = 16
    generations: int = 4
    parents: int = 6
    mutation_prob: float = 0.2
    eval_images: int = 2000
    eval_batch: int = 250

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 2 <= self.parents <= self.population:
            raise SearchSettingsError(
                f"parents must be in 2..population={self.population}, got {self.parents}"
            )
        if not 0 < self.mutation_prob <= 1:
            raise SearchSettingsError(f"mutation_prob must be in (0, 1], got {self.mutation_prob}")


@register_oneshot("spos")
class SPOS(OneShotStrategy):
    """SPOS (Guo et al. 2020): uniform single-path supernet training, then evolution on it."""

    paper = "Guo et al., Single Path One-Shot Neural Architecture Search with Uniform Sampling, ECCV 2020"
    Settings = SPOSSettings
    settings: SPOSSettings

    def uniform_path(self, n_edges: int, n_ops: int) -> Arch:
        return tuple(int(o) for o in self.rng.integers(0, n_ops, n_edges))

    def _run(self, setup: OneShotSetup, clock: OneShotClock) -> tuple[Arch, History, dict[str, Any]]:
        import torch

        from suite.oneshot.supernet import N_EDGES, N_OPS, build_supernet

        s, dev = self.settings, setup.device
        net = build_supernet(setup.space, setup.config).to(dev)
        w_opt = self.weight_optimizer(net.parameters())
        gen, history = self.generator(), History()
        steps = self.steps_per_epoch(setup)
        for epoch in range(1, s.epochs + 1):
            before, loss_sum, correct, n = clock.seconds, 0.0, 0, 0
            with clock.timed("weights"):
                net.train()
                for step, (xt, yt, _, _) in enumerate(self.batches(setup, gen)):
                    self.set_lr(w_opt, (epoch - 1) * steps + step, s.epochs * steps)
                    w_opt.zero_grad(set_to_none=True)
                    logits = net(xt, path=self.uniform_path(N_EDGES, N_OPS))
                    loss = torch.nn.functional.cross_entropy(logits, yt)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(net.parameters(), s.grad_clip)
                    w_opt.step()
                    loss_sum += float(loss.detach()) * len(yt)
                    correct += int((logits.argmax(1) == yt).sum())
                    n += len(yt)
            with clock.timed("evaluation"):  # random paths on the valid subset: the supernet's curve
                v_loss, v_acc = self.score(net, setup, self.uniform_path(N_EDGES, N_OPS))
            history.add(
                epoch,
                train_loss=loss_sum / n,
                train_acc=100 * correct / n,
                valid_loss=v_loss,
                valid_acc=v_acc,
                seconds=clock.seconds - before,
            )
            if clock.exhausted:
                break
        with clock.timed("architecture"):
            arch, trace = self.evolve(net, setup)
        return arch, history, {"evolution": trace}

    def score(self, net: SuperNet, setup: OneShotSetup, arch: Arch) -> tuple[float, float]:
        """Inherited-weight loss and accuracy (%) of ``arch`` on the first ``eval_images`` valid images."""
        import torch

        s, data, dev = self.settings, setup.data, setup.device
        n = min(s.eval_images, data.sizes["valid"])
        loss_sum, correct = 0.0, 0
        net.train()  # batch statistics: see the module docstring
        with torch.no_grad():
            for start in range(0, n, s.eval_batch):
                x = data.x_valid[start : min(start + s.eval_batch, n)].to(dev)
                y = data.y_valid[start : min(start + s.eval_batch, n)].to(dev)
                logits = net(x, path=arch)
                loss_sum += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
                correct += int((logits.argmax(1) == y).sum())
        return loss_sum / n, 100.0 * correct / n

    def evolve(self, net: SuperNet, setup: OneShotSetup) -> tuple[Arch, list[dict[str, Any]]]:
        """SPOS's evolution (top-k parents, mutation and crossover); returns the best cell and a trace."""
        s, space = self.settings, setup.space
        scores: dict[Arch, float] = {}

        def fitness(arch: Arch) -> float:
            if arch not in scores:
                scores[arch] = self.score(net, setup, arch)[1]
            return scores[arch]

        population = self._fill([], lambda: space.sample(self.rng), s.population)
        trace = []
        for generation in range(s.generations + 1):
            ranked = sorted(population, key=lambda a: (-fitness(a), space.index(a)))
            best = ranked[0]
            trace.append({"generation": generation, "best": space.to_str(best), "valid_acc": scores[best]})
            if generation == s.generations:
                break
            parents = ranked[: s.parents]
            half = (s.population - len(parents)) // 2
            children = self._fill(list(parents), lambda p=parents: self._mutate(p), len(parents) + half)
            population = self._fill(children, lambda p=parents: self._crossover(p), s.population)
        return best, trace

    def _fill(self, members: list[Arch], make: Any, size: int) -> list[Arch]:
        """Add new distinct cells from ``make`` until ``size`` (gives up after many repeats)."""
        seen, tries = set(members), 0
        while len(members) < size and tries < 50 * size:
            tries += 1
            arch = make()
            if arch not in seen:
                seen.add(arch)
                members.append(arch)
        return members

    def _mutate(self, parents: list[Arch]) -> Arch:
        parent = parents[int(self.rng.integers(len(parents)))]
        flips = self.rng.random(len(parent)) < self.settings.mutation_prob
        new = self.rng.integers(0, len(OPS), len(parent))
        return tuple(int(n) if f else int(p) for p, f, n in zip(parent, flips, new, strict=True))

    def _crossover(self, parents: list[Arch]) -> Arch:
        a, b = (parents[int(i)] for i in self.rng.choice(len(parents), 2, replace=False))
        mask = self.rng.random(len(a)) < 0.5
        return tuple(int(x) if m else int(y) for x, y, m in zip(a, b, mask, strict=True))
