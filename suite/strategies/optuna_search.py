"""Any Optuna sampler as a strategy, through Optuna's ask/tell interface (Akiba et al. 2019,
"Optuna: A Next-generation Hyperparameter Optimization Framework", KDD).

Each decision of the space is one categorical parameter (``x0 .. x{d-1}``, values the ints
``0..c-1``): NB201's operations are unordered, so no ordinal encoding is implied. Samplers that
cannot model categorical parameters fall back to their independent sampler: ``CmaEsSampler``
on this space is therefore random search (Optuna says so in a warning we silence; see below).

``optuna:<Sampler>`` names (e.g. ``optuna:TPESampler``, ``optuna:NSGAIISampler``) build this
strategy with :func:`optuna_strategy`; the run's seed seeds the sampler and the strategy's
options go to the sampler's constructor. ``optuna-tpe`` is the registered TPE (Bergstra et al.
2011, "Algorithms for Hyper-Parameter Optimization", NeurIPS).

Constraints: Optuna cannot be told which cells are allowed, so an infeasible proposal is told
as ``PRUNED`` (samplers such as TPE rank pruned trials below every complete one and so learn to
avoid the region; others ignore them) and the study is asked again, at most ``max_retries``
times; then a feasible cell drawn by the context is enqueued and asked, so the study records it
and ``ask`` never returns an infeasible cell. A NaN value (failed training) is told as ``FAIL``.

Logging: ``optuna.logging.set_verbosity`` is process-wide, so instead a filter is attached to
Optuna's loggers and to the handlers of the ``optuna`` logger; it drops records only while the
current thread is inside one of this module's study calls, so Optuna used elsewhere in the
process logs as configured.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from suite.errors import SearchSettingsError, StrategyProtocolError, UnknownStrategyError
from suite.strategies.base import Strategy, Trial
from suite.strategies.context import SearchContext
from suite.strategies.registry import OPTUNA_PREFIX, register_strategy

#: Proposals of an infeasible cell told as pruned before a feasible cell is enqueued instead.
DEFAULT_MAX_RETRIES = 32


class _QuietInOurCalls(logging.Filter):
    """Drops records emitted while the current thread is inside :meth:`quiet`."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self._local, "depth", 0)

    @contextmanager
    def quiet(self) -> Iterator[None]:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1


_QUIET = _QuietInOurCalls()


def _attach_quiet_filter() -> None:
    """Attach the filter to every Optuna logger that exists and to the ``optuna`` handlers.

    Logger filters only see records created at that logger, so each ``optuna.*`` logger gets
    it; the handlers also catch loggers that Optuna creates later (lazy imports).
    """
    targets: list[logging.Filterer] = list(logging.getLogger("optuna").handlers)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (name == "optuna" or name.startswith("optuna.")) and isinstance(logger, logging.Logger):
            targets.append(logger)
    for target in targets:
        if _QUIET not in target.filters:
            target.addFilter(_QUIET)


def available_samplers() -> list[str]:
    """Concrete sampler classes exported by ``optuna.samplers``."""
    import optuna

    base = optuna.samplers.BaseSampler
    return sorted(
        name
        for name in dir(optuna.samplers)
        if isinstance(obj := getattr(optuna.samplers, name), type)
        and issubclass(obj, base)
        and not inspect.isabstract(obj)
    )


def _sampler_class(sampler_name: str) -> type:
    if sampler_name not in available_samplers():
        raise UnknownStrategyError(
            f"{OPTUNA_PREFIX}{sampler_name}", [f"{OPTUNA_PREFIX}{s}" for s in available_samplers()]
        )
    import optuna

    return getattr(optuna.samplers, sampler_name)  # type: ignore[no-any-return]


class OptunaSearch(Strategy):
    """An Optuna study driven by ask/tell: one categorical parameter per decision."""

    multi_objective = True

    def __init__(
        self,
        *,
        context: SearchContext,
        seed: int,
        sampler_name: str = "TPESampler",
        sampler_options: Mapping[str, Any] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        super().__init__(context=context, seed=seed)
        if not isinstance(max_retries, int) or max_retries < 0:
            raise SearchSettingsError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        import optuna

        self.max_retries = max_retries
        self.sampler_name = sampler_name
        self.sampler = self._build_sampler(_sampler_class(sampler_name), dict(sampler_options or {}))
        self.distributions: dict[str, optuna.distributions.BaseDistribution] = {
            f"x{i}": optuna.distributions.CategoricalDistribution(list(range(c)))
            for i, c in enumerate(context.space.cardinalities)
        }
        directions = [
            optuna.study.StudyDirection.MINIMIZE if o.minimise else optuna.study.StudyDirection.MAXIMIZE
            for o in context.objectives
        ]
        _attach_quiet_filter()
        with _QUIET.quiet():
            self.study = optuna.create_study(sampler=self.sampler, directions=directions)
        self._pending: dict[int, Any] = {}  # our trial number -> optuna trial
        self._pruned = 0
        self._fallbacks = 0
        # Ask once now: a sampler that cannot handle this study (CMA-ES with two objectives)
        # fails at construction with a settings error rather than mid-run.
        self._next: Any = self._study_ask()

    def _build_sampler(self, cls: type, options: dict[str, Any]) -> Any:
        if "seed" in options:
            raise SearchSettingsError(
                f"{OPTUNA_PREFIX}{self.sampler_name}: 'seed' comes from the run's seed, not an option"
            )
        if "seed" in inspect.signature(cls).parameters:
            options["seed"] = self.seed
        try:
            return cls(**options)
        except (TypeError, ValueError) as error:
            raise SearchSettingsError(
                f"{OPTUNA_PREFIX}{self.sampler_name} options {options}: {error}"
            ) from error

    def _study_ask(self) -> Any:
        try:
            with _QUIET.quiet():
                return self.study.ask(self.distributions)
        except ValueError as error:
            raise SearchSettingsError(
                f"{OPTUNA_PREFIX}{self.sampler_name} cannot run this study "
                f"({len(self.context.objectives)} objective(s)): {error}"
            ) from error

    def _arch_of(self, optuna_trial: Any) -> tuple[int, ...]:
        return tuple(int(optuna_trial.params[f"x{i}"]) for i in range(len(self.distributions)))

    def ask(self) -> Trial:
        import optuna

        for _ in range(self.max_retries + 1):
            candidate = self._next if self._next is not None else self._study_ask()
            self._next = None
            arch = self._arch_of(candidate)
            if self.context.is_feasible(arch):
                return self._register(candidate, arch)
            with _QUIET.quiet():
                self.study.tell(candidate, state=optuna.trial.TrialState.PRUNED)
            self._pruned += 1
        # The sampler keeps proposing infeasible cells: enqueue a feasible one so the study
        # still records (and learns from) what is evaluated.
        arch = self.context.sample(self.rng)
        self._fallbacks += 1
        with _QUIET.quiet():
            self.study.enqueue_trial({f"x{i}": v for i, v in enumerate(arch)})
        return self._register(self._study_ask(), arch)

    def _register(self, optuna_trial: Any, arch: tuple[int, ...]) -> Trial:
        trial = self._trial(arch)
        self._pending[trial.number] = optuna_trial
        return trial

    def tell(self, trial: Trial, values: Sequence[float]) -> None:
        import optuna

        optuna_trial = self._pending.pop(trial.number, None)
        if optuna_trial is None:
            raise StrategyProtocolError(f"trial {trial.number} was not asked, or was told already")
        wanted = [float(v) for v in values[: len(self.context.objectives)]]
        with _QUIET.quiet():
            if len(wanted) < len(self.context.objectives) or any(math.isnan(v) for v in wanted):
                self.study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(optuna_trial, wanted)

    @property
    def stats(self) -> dict[str, int]:
        """Infeasible proposals told as pruned, and feasible cells enqueued after the retries."""
        return {"pruned_infeasible": self._pruned, "fallbacks": self._fallbacks}


def optuna_strategy(sampler_name: str) -> Callable[..., Strategy]:
    """A factory ``(context=, seed=, **sampler_options)`` around ``optuna.samplers.<sampler_name>``.

    ``max_retries`` is this strategy's own option; every other option goes to the sampler. An
    unknown name raises :class:`UnknownStrategyError` listing Optuna's samplers.
    """
    _sampler_class(sampler_name)  # fail now, naming the samplers, not when a run starts

    def factory(*, context: SearchContext, seed: int, **options: Any) -> Strategy:
        max_retries = options.pop("max_retries", DEFAULT_MAX_RETRIES)
        return OptunaSearch(
            context=context,
            seed=seed,
            sampler_name=sampler_name,
            sampler_options=options,
            max_retries=max_retries,
        )

    factory.__name__ = f"optuna_{sampler_name}"
    factory.__doc__ = f"Optuna's {sampler_name} through ask/tell (options go to the sampler)."
    return factory


@register_strategy("optuna-tpe")
class OptunaTPE(OptunaSearch):
    """Optuna's TPE (Bergstra et al. 2011) over the cell's categorical decisions."""

    def __init__(
        self,
        *,
        context: SearchContext,
        seed: int,
        max_retries: int = DEFAULT_MAX_RETRIES,
        **sampler_options: Any,
    ) -> None:
        super().__init__(
            context=context,
            seed=seed,
            sampler_name="TPESampler",
            sampler_options=sampler_options,
            max_retries=max_retries,
        )
