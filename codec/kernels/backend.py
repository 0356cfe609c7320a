"""Which kernels run: the compiled ones (``kernels/c``) or the numpy reference.

The compiled kernels are used when they were built, unless the environment
variable ``HUFFKIT_BACKEND`` says otherwise:

* ``HUFFKIT_BACKEND=numpy``: the numpy kernels, which decode Huffman streams
  with bitarray (imported only when they are chosen: the compiled kernels and
  ``import huffkit`` do without it; a RuntimeWarning, and the compiled kernels,
  if it cannot be imported);
* ``HUFFKIT_BACKEND=c``: the compiled kernels (a RuntimeWarning, and numpy, if
  they are not built);
* unset (or ``auto``): the compiled kernels if they are built, else numpy.

``huffkit.backend`` names the one in use, and ``huffkit --version`` says why
the compiled one is missing, if it is.  Both produce bit-identical output.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from types import ModuleType

from . import reference
from .interface import Kernels

__all__ = ["BACKENDS", "describe", "kernels", "name", "unavailable", "use"]

#: The backends, by the name ``huffkit.backend`` and ``HUFFKIT_BACKEND`` give them.
BACKENDS = ("c", "numpy")
_ENVIRONMENT = "HUFFKIT_BACKEND"


def _missing(error: ImportError) -> str:
    """Why the compiled kernels could not be imported, in words a user can act on."""
    try:
        built = importlib.util.find_spec(f"{__package__}._ckernels") is not None
    except ImportError:
        built = True  # something else stands in the way: say what
    if not built:
        return ("the compiled kernels were not built when huffkit was installed "
                "(was there no C compiler?)")
    return f"the compiled kernels cannot be loaded ({error})"


#: Why the compiled kernels cannot be used, or None when they can.
unavailable: str | None = None
try:
    from . import compiled as _compiled
    compiled: ModuleType | None = _compiled
    _compiled_kernels: Kernels | None = _compiled  # (checked to offer every kernel)
except ImportError as error:
    compiled = _compiled_kernels = None
    unavailable = _missing(error)

_MODULES: dict[str, Kernels | None] = {"numpy": reference, "c": _compiled_kernels}

#: The kernels in use: a module with the functions of interface.Kernels.
kernels: Kernels = reference
_name = "numpy"


def use(choice: str) -> None:
    """Run the codec on backend *choice* (``"c"`` or ``"numpy"``) from now on; ImportError,
    saying why, if it cannot run here."""
    global kernels, _name
    if choice not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, "
                         f"not {choice!r}")
    module = _MODULES[choice]
    if module is None:
        raise ImportError(f"the {choice!r} backend cannot be used: {unavailable}")
    if choice == "numpy":
        reference.require_bitarray()  # ImportError, naming bitarray, if it is missing
    kernels, _name = module, choice


def name() -> str:
    """The backend in use: ``"c"`` or ``"numpy"``."""
    return _name


def describe() -> str:
    """The backend in use, and why, in words (``huffkit --version`` prints it)."""
    if _name == "c" and compiled is not None:  # (it is, when c is in use)
        return f"backend c: compiled kernels, built by {compiled.COMPILER}"
    why = unavailable if unavailable is not None else f"chosen by {_ENVIRONMENT}=numpy"
    try:
        reference.require_bitarray()
    except ImportError as error:  # only when the compiled kernels are missing too
        return f"backend numpy: {why}; and {error}"
    return f"backend numpy: {why}"


def _choose() -> None:
    """The backend HUFFKIT_BACKEND asks for; a request that cannot be met is warned about,
    not fatal, so that huffkit (and its command line) still runs."""
    global unavailable, kernels, _name
    wanted = os.environ.get(_ENVIRONMENT, "auto").strip().lower() or "auto"
    if wanted not in ("auto", *BACKENDS):
        warnings.warn(f"{_ENVIRONMENT}={wanted!r} is not one of auto, c, numpy; using auto",
                      RuntimeWarning, stacklevel=2)
        wanted = "auto"
    if wanted == "c" and compiled is None:
        warnings.warn(f"{_ENVIRONMENT}=c, but {unavailable}; using numpy", RuntimeWarning,
                      stacklevel=2)
    if wanted == "numpy" and compiled is not None:
        try:
            use("numpy")
        except ImportError as error:  # no bitarray: the compiled kernels need none
            warnings.warn(f"{_ENVIRONMENT}=numpy, but {error}; using c", RuntimeWarning,
                          stacklevel=2)
            use("c")
    elif compiled is None:
        # Nothing else is left: without bitarray, these kernels still compress, and decoding
        # a Huffman block says what is missing.  huffkit must import either way.
        kernels, _name = reference, "numpy"
    else:
        use("c")


_choose()
