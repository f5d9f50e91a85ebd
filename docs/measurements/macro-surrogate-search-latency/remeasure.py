"""Re-measure verified finds' batch-1 latency under the lookup table's own settings."""
import json, sys
import numpy as np
from tabular.hardware import latency_ms
from tabular.latency_lut import LatencyLUT, _build, _network_config
from tabular.spaces import get_space

lut = LatencyLUT.load(sys.argv[1])
result = json.load(open(sys.argv[2]))
space, config = get_space(lut.space), _network_config(lut.network)
rows = []
for arch in dict.fromkeys(r["arch"] for r in result["verified"]):
    a = space.from_str(arch)
    ms = latency_ms(_build(space, a, config), config.input_shape, lut.batch_size, lut.threads,
                    lut.warmup, lut.repeats, lut.statistic)
    rows.append({"arch": arch, "lut_ms": lut.predict(a), "measured_ms": ms})
print(json.dumps({"lut": sys.argv[1], "statistic": lut.statistic, "repeats": lut.repeats, "placement": lut.placement, "finds": rows}, indent=1))
