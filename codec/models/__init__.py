"""The models: what a coder is built from and measured against.

``alphabet`` turns bytes into symbols; ``distribution`` is a P or a Q over
them; ``codebook`` is a Huffman code built from one (and its JSON file);
``frequency_table`` is rANS's quantised table; ``measures`` are the entropy,
cross-entropy and divergences between distributions.  Models use the kernels
and nothing above them.
"""
