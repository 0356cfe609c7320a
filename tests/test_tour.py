"""`huffkit tour`: it runs, quickly, and what it prints is what the library computes."""

from __future__ import annotations

import math
import re
import time

from click.testing import CliRunner

import huffkit
import huffkit.cli
import huffkit.corpora


def run_tour() -> tuple[str, float]:
    start = time.perf_counter()
    result = CliRunner().invoke(huffkit.cli.main, ["tour"], catch_exceptions=False)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    return result.output, elapsed


def test_the_tour_shows_the_worked_examples():
    output, elapsed = run_tour()
    assert elapsed < 60
    for line in [
        "P = (1/2, 1/4, 1/8, 1/8): H(P) = 1.75 bits; its Huffman code has lengths (1, 2, 3, 3),",
        "A fair coin: H = ln 2 = 0.693 nats = 1 bit.  A fair die: H = ln 6 = 1.792 nats.",
        "H(0.6, 0.4) = 0.971 bits.",
        "  H(p) = 0.639 nats, cross-entropy H_q(p) = 1.500 nats, KL D(p||q) = 0.861 nats",
        "Binary cross-entropy of the label 1 against predictions 0.6, 0.9, 0.3: "
        "0.737, 0.152, 1.737 bits.",
    ]:
        assert line in output.splitlines()
    assert "mean length 1.75 bits" in output


def test_the_tour_lists_every_bundled_file_with_its_real_size():
    output, _ = run_tour()
    for entry in huffkit.corpora.manifest():
        data = entry.path.read_bytes()
        ledger = huffkit.analyze(data)
        row = re.search(rf"^{re.escape(entry.name)} +([\d,]+) +([\d.]+) +([\d.]+) +([\d.]+) "
                        rf"+([\d,]+)$", output, re.MULTILINE)
        assert row, entry.name
        assert int(row[1].replace(",", "")) == len(data)
        assert float(row[2]) == round(ledger.entropy, 3)
        assert int(row[5].replace(",", "")) == len(huffkit.compress(data))


def test_the_tour_accounts_for_the_mismatch():
    output, _ = run_tour()
    english = huffkit.corpora.path("english.txt").read_bytes()
    q = huffkit.Distribution.from_files([huffkit.corpora.path("source.c")]).smoothed(0.5)
    codebook = huffkit.Codebook.from_distribution(q)
    own = huffkit.inspect(huffkit.compress(english))
    mismatched = huffkit.inspect(huffkit.compress(english, codebook=codebook), codebook=codebook)
    extra = mismatched.bits_payload - own.bits_payload
    assert f"Coding with Q instead of P costs {extra:,} more payload bits" in output
    kl_bits = len(english) * huffkit.kl_divergence(huffkit.Distribution.from_bytes(english), q)
    assert f"= {kl_bits:,.1f} bits more." in output
    # The identity the tour spells out holds: n·D + change in rounding = extra payload bits.
    change = mismatched.wasted_rounding - own.wasted_rounding
    assert math.isclose(kl_bits + change, extra, rel_tol=1e-9)
    assert f"= {extra:,.1f}: every extra bit is accounted for." in output
