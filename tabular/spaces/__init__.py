"""Search spaces, registered by name (``get_space("nb201")``)."""

from tabular.spaces.base import SPACES, Arch, SearchSpace, get_space, register_space
from tabular.spaces.nb201 import NB201Space

__all__ = ["SPACES", "Arch", "NB201Space", "SearchSpace", "get_space", "register_space"]
