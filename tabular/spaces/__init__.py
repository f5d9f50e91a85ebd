"""Search spaces, registered by name (``get_space("nb201")``, ``get_space("macro")``)."""

from tabular.spaces.base import SPACES, Arch, SearchSpace, get_space, register_space
from tabular.spaces.macro import MACRO_SPACE_NAMES, MacroIRSpace, MacroSpace, MacroVGGSpace, MacroWidthSpace
from tabular.spaces.nb201 import NB201Space

__all__ = [
    "MACRO_SPACE_NAMES",
    "SPACES",
    "Arch",
    "MacroIRSpace",
    "MacroSpace",
    "MacroVGGSpace",
    "MacroWidthSpace",
    "NB201Space",
    "SearchSpace",
    "get_space",
    "register_space",
]
