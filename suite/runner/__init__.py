"""Running strategies on benchmarks under the simulated clock, and storing what they did."""

from suite.runner.loop import run_search
from suite.runner.setup import RunSetup, build_setup
from suite.runner.spec import Evaluation, RunResult, SearchSpec

__all__ = ["Evaluation", "RunResult", "RunSetup", "SearchSpec", "build_setup", "run_search"]
