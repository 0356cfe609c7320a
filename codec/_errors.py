"""The exceptions huffkit raises about data, files and codebooks.

Bad *arguments* (a negative block size, a wrong type) raise the ordinary
``ValueError`` or ``TypeError``, as the standard library's codecs do.
"""

__all__ = ["ChecksumError", "CodebookError", "FormatError", "HuffmanError", "MemoryLimitError",
           "TruncatedError"]


class HuffmanError(Exception):
    """Base class of every error huffkit raises about data, files and codebooks."""


class FormatError(HuffmanError):
    """The input is not a valid huffkit stream: bad magic, version, header or code table."""


class ChecksumError(FormatError):
    """A block decoded, but its CRC-32 does not match the one stored with it."""


class TruncatedError(FormatError, EOFError):
    """The input ended before the end of a frame.

    A truncated stream is a malformed one, so this is also a ``FormatError``;
    it is an ``EOFError`` too, as the standard library's codecs raise for the
    same condition.
    """


class CodebookError(HuffmanError, ValueError):
    """A codebook cannot be built, or cannot code the data it is given."""


class MemoryLimitError(HuffmanError):
    """Decoding a frame would need more memory than the decoder's ``memory_limit`` allows.

    Raised from the frame's header, before anything is allocated for its
    blocks: the data may well be valid, so this is not a ``FormatError``.
    Pass a larger ``memory_limit=`` (or None, for no limit) to decode it.
    """
