"""The names the public functions take, as ``Literal`` types: a type checker then catches
``coder="rans"`` before the ``ValueError`` would.  Defined once, here; the runtime tables
(``format.layout.CODERS``, ``models.alphabet.ALPHABETS``, ``models.sequential.MODELS``) hold
the same names, in the same order (tests/test_typing.py checks both agree).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["AlphabetName", "Coder", "ModelName"]

#: The entropy coders of a frame's blocks (``coder=``).
Coder: TypeAlias = Literal["huffman", "ans"]

#: The alphabets a coder sees the bytes as (``alphabet=``).
AlphabetName: TypeAlias = Literal["bytes", "utf8", "pairs"]

#: The sequential models (``model=``): order0, the default coders' own, then the models of
#: ``models.sequential.MODELS``.
ModelName: TypeAlias = Literal["order0", "order1", "order2", "order3", "adaptive0", "adaptive1",
                               "adaptive2", "adaptive3", "cm"]
