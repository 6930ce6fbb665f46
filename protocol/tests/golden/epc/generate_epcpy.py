#!/usr/bin/env python3
"""Golden EPC vectors from an independent implementation: epcpy (PyPI), not tagtally's code.

Legal vectors: random field values for every scheme, partition and filter are written as a
pure-identity URI, encoded by epcpy (`hex(...)`, `tag_uri(...)`), and decoded back by epcpy
(`hex_to_tag_encodable`), which must give the same URI.
Illegal vectors: legal bits with one rule broken (partition 7, a company prefix or the reference
after it with too many digits, non-zero reserved bits, a bad character, a character after the terminator, no terminator,
too few bits, ...). epcpy must refuse each; where it accepts one that the TDS forbids, the vector is
still written as invalid (the TDS rules) and listed in DISAGREEMENTS.md.

Usage: python3 -m venv v && v/bin/pip install epcpy==0.1.8 && v/bin/python generate_epcpy.py
Writes epcpy_vectors.tsv (hex, then `tag_uri pure_identity` or `invalid <what>`) next to this file.
"""

import importlib
import random
import sys
from pathlib import Path

import epcpy
from epcpy import hex_to_tag_encodable

HERE = Path(__file__).parent
RNG = random.Random(20261203)
SET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CPI_CHARS = ALNUM + "#-/"
ADI_CHARS = ALNUM + "-/"


def escape(text):
    out = []
    for c in text:
        out.append("%{:02X}".format(ord(c)) if c in "\"#%&/<>?" else c)
    return "".join(out)


def digits(n):
    return "".join(RNG.choice("0123456789") for _ in range(n))


def integer_below(limit):
    return str(RNG.randrange(limit))


def text(chars, lo, hi):
    return "".join(RNG.choice(chars) for _ in range(RNG.randint(lo, hi)))


def cp_len():
    return RNG.randint(6, 12)


# scheme -> (epcpy module, class, coding-scheme name, filter bits, field generator, class fields)
def gen_sgtin(bits):
    def gen(L):
        serial = integer_below(2**38) if bits == 96 else text(SET82, 1, 20)
        return [digits(L), digits(13 - L), serial]
    return gen


def gen_sscc(L):
    return [digits(L), digits(17 - L)]


def gen_sgln(bits):
    def gen(L):
        ext = integer_below(2**41) if bits == 96 else text(SET82, 1, 20)
        return [digits(L), digits(12 - L), ext]
    return gen


def gen_grai(bits):
    def gen(L):
        serial = integer_below(2**38) if bits == 96 else text(SET82, 1, 16)
        return [digits(L), digits(12 - L), serial]
    return gen


def gen_giai(bits):
    def gen(L):
        if bits == 96:
            ref_bits = {12: 42, 11: 45, 10: 48, 9: 52, 8: 55, 7: 58, 6: 62}[L]
            return [digits(L), integer_below(min(2**ref_bits, 10 ** (25 - L)))]
        return [digits(L), text(SET82, 1, 30 - L)]
    return gen


def gen_gdti(bits):
    def gen(L):
        serial = integer_below(2**41) if bits == 96 else text(SET82, 1, 17)
        return [digits(L), digits(12 - L), serial]
    return gen


def gen_cpi(bits):
    def gen(L):
        if bits == 96:
            ref_bits = {12: 11, 11: 14, 10: 17, 9: 21, 8: 24, 7: 27, 6: 31}[L]
            return [digits(L), integer_below(min(2**ref_bits, 10 ** (15 - L))), integer_below(2**31)]
        return [digits(L), text(CPI_CHARS, 1, 30 - L), integer_below(10**12)]
    return gen


def gen_sgcn(L):
    return [digits(L), digits(12 - L), digits(RNG.randint(0, 12))]


def gen_itip(bits):
    def gen(L):
        serial = integer_below(2**38) if bits == 110 else text(SET82, 1, 20)
        return [digits(L), digits(13 - L), digits(2), digits(2), serial]
    return gen


def gen_gid(_L):
    return [integer_below(2**28), integer_below(2**24), integer_below(2**36)]


def cage():
    return text(ALNUM, 5, 6)


def gen_usdod(_L):
    return [cage(), integer_below(2**36)]


def gen_adi(_L):
    serial = text(ADI_CHARS, 1, 30)
    if RNG.random() < 0.3:
        serial = "#" + serial[1:] if len(serial) > 1 else "#1"
    return [cage(), text(ADI_CHARS, 0, 32), serial]


SCHEMES = [
    ("sgtin-96", "sgtin", "SGTIN_96", 3, gen_sgtin(96)),
    ("sgtin-198", "sgtin", "SGTIN_198", 3, gen_sgtin(198)),
    ("sscc-96", "sscc", "SSCC_96", 3, gen_sscc),
    ("sgln-96", "sgln", "SGLN_96", 3, gen_sgln(96)),
    ("sgln-195", "sgln", "SGLN_195", 3, gen_sgln(195)),
    ("grai-96", "grai", "GRAI_96", 3, gen_grai(96)),
    ("grai-170", "grai", "GRAI_170", 3, gen_grai(170)),
    ("giai-96", "giai", "GIAI_96", 3, gen_giai(96)),
    ("giai-202", "giai", "GIAI_202", 3, gen_giai(202)),
    ("gsrn-96", "gsrn", "GSRN_96", 3, gen_sscc),
    ("gsrnp-96", "gsrnp", "GSRNP_96", 3, gen_sscc),
    ("gdti-96", "gdti", "GDTI_96", 3, gen_gdti(96)),
    ("gdti-174", "gdti", "GDTI_174", 3, gen_gdti(174)),
    ("cpi-96", "cpi", "CPI_96", 3, gen_cpi(96)),
    ("cpi-var", "cpi", "CPI_VAR", 3, gen_cpi(0)),
    ("sgcn-96", "sgcn", "SGCN_96", 3, gen_sgcn),
    ("itip-110", "itip", "ITIP_110", 3, gen_itip(110)),
    ("itip-212", "itip", "ITIP_212", 3, gen_itip(212)),
    ("gid-96", "gid", "GID_96", 0, gen_gid),
    ("usdod-96", "usdod", "USDOD_96", 4, gen_usdod),
    ("adi-var", "adi", "ADI_VAR", 6, gen_adi),
]


def scheme_class(module_name):
    module = importlib.import_module("epcpy.epc_schemes." + module_name)
    cls = getattr(module, module_name.upper())
    filters = [getattr(module, n) for n in dir(module) if n.endswith("FilterValue")]
    return cls, (filters[0] if filters else None)


def encode(scheme, module_name, coding, filter_bits, fields, filter_value):
    cls, filter_enum = scheme_class(module_name)
    uri = "urn:epc:id:{}:{}".format(module_name, ".".join(escape(f) for f in fields))
    obj = cls(uri)
    kwargs = {"binary_coding_scheme": cls.BinaryCodingScheme[coding]}
    if filter_enum is not None:
        kwargs["filter_value"] = filter_enum(str(filter_value))
    hexa = obj.hex(**kwargs).upper()
    tag = obj.tag_uri(**kwargs)
    back = hex_to_tag_encodable(hexa)
    if back.epc_uri != obj.epc_uri:
        raise RuntimeError(f"epcpy does not round-trip {uri}: {hexa} -> {back.epc_uri}")
    return hexa, tag, obj.epc_uri


def to_bits(hexa):
    return bin(int(hexa, 16))[2:].zfill(len(hexa) * 4)


def to_hex(bits):
    bits = bits + "0" * (-len(bits) % 16)
    return "{:0{}X}".format(int(bits, 2), len(bits) // 4)


def epcpy_accepts(hexa):
    try:
        return hex_to_tag_encodable(hexa).epc_uri
    except Exception:  # epcpy raises several exception types for bad input
        return None


# (offset of the partition, bits of partition+cp+ref at partition 0 or None) per scheme family.
PARTITIONED = {"gid-96", "usdod-96", "adi-var"}


# The numeric reference after the company prefix, per identity type: (bits of company prefix +
# reference, digits of company prefix + reference, name) of TDS §14's partition tables.
REFERENCE = {
    "sgtin": (44, 13, "item reference"),
    "itip": (44, 13, "item reference"),
    "sscc": (58, 17, "serial reference"),
    "gsrn": (58, 17, "service reference"),
    "gsrnp": (58, 17, "service reference"),
    "sgln": (41, 12, "location reference"),
    "grai": (44, 12, "asset type"),
    "gdti": (41, 12, "document type"),
    "sgcn": (41, 12, "coupon reference"),
}


def illegal_variants(scheme, hexa, fields, filter_bits):
    """Yields (hex, what) for encodings that break one TDS rule each."""
    bits = to_bits(hexa)
    if scheme not in PARTITIONED:
        p = 8 + filter_bits
        yield to_hex(bits[:p] + "111" + bits[p + 3:]), "partition 7"
        # Company prefix all ones: more digits than its partition allows (when the bits can).
        part = int(bits[p:p + 3], 2)
        cp_bits = [40, 37, 34, 30, 27, 24, 20][part]
        if 2**cp_bits > 10 ** (12 - part):
            yield to_hex(bits[:p + 3] + "1" * cp_bits + bits[p + 3 + cp_bits:]), "company prefix too many digits"
    if scheme.split("-")[0] in REFERENCE:
        # The reference after the company prefix all ones: more digits than its partition allows.
        p = 8 + filter_bits
        part = int(bits[p:p + 3], 2)
        cp_bits = [40, 37, 34, 30, 27, 24, 20][part]
        total_bits, total_digits, name = REFERENCE[scheme.split("-")[0]]
        ref_bits, ref_digits = total_bits - cp_bits, total_digits - (12 - part)
        if 2**ref_bits > 10**ref_digits:
            start = p + 3 + cp_bits
            yield to_hex(bits[:start] + "1" * ref_bits + bits[start + ref_bits:]), f"{name} too many digits"
    if scheme in ("sscc-96", "gsrn-96", "gsrnp-96"):
        yield to_hex(bits[:95] + "1"), "reserved bits not zero"
    fixed = scheme.rsplit("-", 1)[1]
    if fixed.isdigit():
        yield hexa[: (int(fixed) // 8 - 1) * 2], "too few bits"
    if scheme in ("sgtin-198", "sgln-195", "grai-170", "gdti-174", "itip-212", "giai-202"):
        total = int(fixed)
        field_bits = {"sgtin-198": 140, "sgln-195": 140, "grai-170": 112, "gdti-174": 119, "itip-212": 140}.get(scheme)
        if field_bits is None:  # giai-202: the string runs to the end
            part = int(bits[11:14], 2)
            field_bits = [148, 151, 154, 158, 161, 164, 168][part]
        start = total - field_bits
        # A space (0x20) is not in set 82.
        yield to_hex(bits[:start] + "0100000" + bits[start + 7:]), "character outside set 82"
        n = len(fields[-1])
        if n * 7 + 14 <= field_bits:
            # ...a zero character then a non-zero one after the string's end.
            after = start + (n + 1) * 7
            yield to_hex(bits[:after] + "1000001" + bits[after + 7:]), "character after the terminator"
        if scheme == "sgtin-198" and n == 1:
            yield to_hex(bits[:start] + "0" * 140 + bits[start + 140:]), "empty serial"
    if scheme == "sgcn-96":
        # The serial's integer must start with the digit 1; 0 does not.
        yield to_hex(bits[:55] + "0" * 41), "serial without its leading 1"
    if scheme in ("itip-110", "itip-212"):
        p = 8 + 3 + 3 + 44
        yield to_hex(bits[:p] + format(100, "07b") + bits[p + 7:]), "piece 100 has three digits"
    if scheme == "cpi-96":
        serial_start = 96 - 31
        part = int(bits[11:14], 2)
        ref_bits = [11, 14, 17, 21, 24, 27, 31][part]
        ref_start = 14 + [40, 37, 34, 30, 27, 24, 20][part]
        if 2**ref_bits > 10 ** (3 + part):
            yield to_hex(bits[:ref_start] + "1" * ref_bits + bits[serial_start:]), "part reference too many digits"
    if scheme == "cpi-var":
        # A part reference with no terminator: 30 characters of '1'.
        part = int(bits[11:14], 2)
        start = 14 + [40, 37, 34, 30, 27, 24, 20][part]
        yield to_hex(bits[:start] + "110001" * 30 + "0" * 40), "part reference without terminator"
        yield to_hex(bits[:start] + "011011" + "000000" + "0" * 40), "character outside the cpi set"
    if scheme == "adi-var":
        # '#' (100011) inside the serial rather than first; a space in the part number.
        start = 8 + 6 + 36
        yield to_hex(bits[:start] + "000000" + "110001" + "100011" + "000000"), "# not first in serial"
        yield to_hex(bits[:start] + "100000" + "000000" + "110001" + "000000"), "space in part number"
        yield to_hex(bits[:start] + "000000" + "000000"), "empty serial"
    if scheme == "usdod-96":
        yield to_hex(bits[:12] + "00101110" + bits[20:]), "'.' in the cage code"


def main():
    legal, illegal, disagreements = [], [], []
    for scheme, module_name, coding, filter_bits, gen in SCHEMES:
        count = 0
        tries = 0
        while count < 28 and tries < 400:
            tries += 1
            L = 12 - (count % 7)
            fields = gen(L)
            filter_value = 0 if filter_bits == 0 else RNG.randrange(2**filter_bits)
            if scheme == "adi-var" and filter_value > 63:
                filter_value = 0
            try:
                hexa, tag, pure = encode(scheme, module_name, coding, filter_bits, fields, filter_value)
            except Exception as e:  # epcpy refused a value tagtally thinks legal
                disagreements.append(f"{scheme}: epcpy refuses to encode {fields} (filter {filter_value}): {e}")
                continue
            legal.append((hexa, tag, pure))
            count += 1
            if count <= 7:
                for bad, what in illegal_variants(scheme, hexa, fields, filter_bits):
                    got = epcpy_accepts(bad)
                    if got is not None:
                        disagreements.append(f"{scheme}: epcpy accepts {bad} ({what}) as {got}")
                    illegal.append((bad, scheme, what))
        if count < 28:
            print(f"{scheme}: only {count} legal vectors", file=sys.stderr)
    out = HERE / "epcpy_vectors.tsv"
    with out.open("w") as f:
        f.write(f"# generated by generate_epcpy.py with epcpy {getattr(epcpy, '__version__', '0.1.8')}; do not edit\n")
        for hexa, tag, pure in legal:
            f.write(f"{hexa}\t{tag}\t{pure}\n")
        for bad, scheme, what in illegal:
            f.write(f"{bad}\tinvalid\t{scheme}: {what}\n")
    (HERE / "epcpy_disagreements.txt").write_text(
        "# vectors where epcpy 0.1.8 and the TDS disagree; the vectors follow the TDS\n"
        + "".join(d + "\n" for d in sorted(set(disagreements)))
    )
    print(f"{len(legal)} legal, {len(illegal)} illegal, {len(set(disagreements))} disagreements")


if __name__ == "__main__":
    main()
