"""Sequential models: each byte predicted from the bytes before it, and coded with what
the model predicted.

Order 0 (huffkit's default) codes every byte of a block with one distribution. A
sequential model's prediction changes with the context, the bytes just before, and
the arithmetic coder spends -log2 q(x_i | x_<i) bits on each byte: the model's loss,
summed, is the payload, to within a few bytes. That makes the file's size the loss a
deep-learning course trains a classifier on.

Three kinds, each a block type of its own in the file (FORMAT.md, section 18):

* ``adaptive0`` to ``adaptive3``: the adaptive order-k model. It stores nothing:
  it learns from the data as both sides code it.
* ``order1`` to ``order3``: the static order-k model. Counts from the whole block,
  stored in the file (the model's own bits), then fixed.
* ``cm``: context mixing. Predictions from many contexts, mixed by a
  one-layer network that is trained online on the coding loss itself.

This module names them and gives each one the same small interface, so that the
format, the ledger and the ladder treat them alike. A new model needs an entry in
``MODELS`` and a kernel below it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

import numpy as np

from .._buffers import Bytes
from .._types import ModelName
from ..kernels import backend

__all__ = ["MODELS", "ORDER0", "SequentialModel", "model_for", "model_named"]

#: The default, not a sequential model: per-block order-0 codes (Huffman or rANS).
ORDER0: Final = "order0"

# The format's number for each kind of model (FORMAT.md, section 18).
KIND_ADAPTIVE = 1
KIND_STATIC = 2
KIND_CM = 3


@dataclass(frozen=True)
class SequentialModel:
    """A model as the format, the ledger and the ladder see it.

    ``encode(data)`` gives the model's stored bytes (empty for one that stores none) and
    the payload; ``decode(stored, payload, count)`` the *count* bytes back, raising
    ``ValueError`` for a payload or a stored model that is not what an encoder wrote;
    ``costs(data, stored)`` what each byte cost the model, in bits (their sum is its
    loss); ``memory(count, stored)`` the most bytes its tables take to decode a block of
    *count* bytes with that stored model.
    """

    name: ModelName
    kind: int  # the format's number for it
    order: int  # k for order-k models; for cm, the order of its reference line
    summary: str  # one line, for ``huffkit models``
    stores: bool  # whether it stores a model in the file (static models)
    codes_every_bit: bool  # False where the stored model forces bits, which cost nothing
    encode: Callable[[Bytes], tuple[bytes, bytes]]
    decode: Callable[[bytes, bytes, int], bytes]
    costs: Callable[[Bytes, bytes], np.ndarray]
    memory: Callable[[int, bytes], int]


def _adaptive(order: int) -> SequentialModel:
    # Orders 0 and 1 index their tables directly; above, the k bytes are hashed to 2^22
    # entries, 32 bits each (codec/kernels/c/sequential.c).
    table = 4 << (8 if order == 0 else 16 if order == 1 else 22)
    context = ("the byte's bits so far" if order == 0 else
               "the byte before" if order == 1 else f"the {order} bytes before")
    return SequentialModel(
        name=cast(ModelName, f"adaptive{order}"), kind=KIND_ADAPTIVE, order=order,
        summary=f"adaptive order {order}: learns from {context} as it codes; stores nothing",
        stores=False, codes_every_bit=True,
        encode=lambda data: (b"", backend.kernels.sequential_encode(data, order)),
        decode=lambda stored, payload, count: backend.kernels.sequential_decode(
            payload, count, order),
        costs=lambda data, stored: backend.kernels.sequential_costs(data, order),
        memory=lambda count, stored: table)


def _leb128s(data: bytes, count: int) -> list[int] | None:
    """The first *count* LEB128 numbers of *data*, or None if it does not start with them."""
    numbers, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            numbers.append(value)
            if len(numbers) == count:
                return numbers
            value, shift = 0, 0
        elif shift > 63:
            return None
    return None


def _static_memory(count: int, stored: bytes) -> int:
    """What reading a stored static model takes, from the contexts and pairs it declares
    first (each at most what *count* bytes could hold: the kernel refuses more)."""
    declared = _leb128s(stored, 2)
    if declared is None:
        return 0  # not a model: refused as soon as it is read
    contexts, pairs = declared
    memory: int = backend.kernels.static_model_memory(min(contexts, count + 1),
                                                      min(pairs, count))
    return memory


def _static(order: int) -> SequentialModel:
    context = "the byte before" if order == 1 else f"the {order} bytes before"
    return SequentialModel(
        name=cast(ModelName, f"order{order}"), kind=KIND_STATIC, order=order,
        summary=(f"static order {order}: the block's own statistics given {context}, "
                 "counted first and stored in the file"),
        stores=True, codes_every_bit=False,
        encode=lambda data: backend.kernels.static_encode(data, order),
        decode=lambda stored, payload, count: backend.kernels.static_decode(
            stored, payload, count, order),
        costs=lambda data, stored: backend.kernels.static_costs(stored, data, order),
        memory=_static_memory)


#: Context mixing (its order, 0, is the format's parameter: the model has none).
CM = SequentialModel(
    name="cm", kind=KIND_CM, order=0,
    summary=("context mixing: orders 0 to 6, a word and a match model, mixed by a "
             "one-layer network trained online on the coding loss; stores nothing"),
    stores=False, codes_every_bit=True,
    encode=lambda data: (b"", backend.kernels.cm_encode(data)),
    decode=lambda stored, payload, count: backend.kernels.cm_decode(payload, count),
    costs=lambda data, stored: backend.kernels.cm_costs(data),
    memory=lambda count, stored: backend.kernels.cm_memory(count))


MODELS: dict[ModelName, SequentialModel] = {model.name: model for model in (
    *(_static(order) for order in (1, 2, 3)),
    *(_adaptive(order) for order in range(4)),
    CM,
)}


def model_named(name: str) -> SequentialModel | None:
    """The model called *name*; None for ``order0``, the default coders' own.
    ``ValueError`` naming the models for any other name."""
    if name == ORDER0:
        return None
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose {ORDER0} (the default) or one of "
                         f"{', '.join(MODELS)} (huffkit models lists them)")
    return MODELS[name]


def model_for(kind: int, order: int) -> SequentialModel | None:
    """The model a block's model number and order name; None if there is none."""
    for model in MODELS.values():
        if model.kind == kind and model.order == order:
            return model
    return None
