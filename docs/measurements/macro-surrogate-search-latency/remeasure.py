"""Re-time verified finds' batch-1 latency under the lookup table's own settings.

Usage: python remeasure.py LUT.json OUT/surrogate-search.json > remeasured-latency.json
(``nasuite surrogate-search --lut`` now records the same figure as ``latency_ms:cpu_b1@lut``.)
"""

import json
import sys

from tabular.latency_lut import LatencyLUT, measure_network_ms
from tabular.spaces import get_space

lut = LatencyLUT.load(sys.argv[1])
result = json.load(open(sys.argv[2]))
space = get_space(lut.space)
rows = []
for arch in dict.fromkeys(r["arch"] for r in result["verified"]):
    choices = space.from_str(arch)
    rows.append({"arch": arch, "lut_ms": lut.predict(choices), "measured_ms": measure_network_ms(lut, choices)})
report = {"lut": sys.argv[1], "statistic": lut.statistic, "repeats": lut.repeats, "placement": lut.placement}
print(json.dumps({**report, "finds": rows}, indent=1))
