"""Fits the polynomial P of rigor-cpu's `erfc_f32`:

    erfc(z) = t * exp(-z^2 + P(t)),   t = 1 / (1 + z/2),   z >= 0

(the form of Numerical Recipes' `erfcc`, refitted here). P(t) = ln(erfcx(z)) - ln(t) is
smooth on t in (0, 1]; it is fitted by least squares on Chebyshev nodes of t in [T_MIN, 1]
(z in [0, Z_MAX], past which erfc underflows f32), in f64 with SciPy's erfcx as the truth, and
the maximum relative error of the f64 formula is printed. Run:

    python3 crates/rigor-cpu/scripts/fit_erfc.py

and paste the printed coefficients into `ERFC_P` in src/math.rs (highest degree first).
"""

import numpy as np
from scipy.special import erfc, erfcx

DEGREE = 9
Z_MAX = 10.0
T_MIN = 1.0 / (1.0 + Z_MAX / 2.0)

k = np.arange(4000)
t = (1 + T_MIN) / 2 + (1 - T_MIN) / 2 * np.cos(np.pi * (k + 0.5) / len(k))
z = 2.0 * (1.0 / t - 1.0)
target = np.log(erfcx(z)) - np.log(t)
coeffs = np.polyfit(t, target, DEGREE)

zz = np.linspace(0.0, 9.0, 200001)
tt = 1.0 / (1.0 + zz / 2.0)
approx = tt * np.exp(-zz * zz + np.polyval(coeffs, tt))
rel = np.max(np.abs(approx / erfc(zz) - 1.0))
print(f"degree {DEGREE}, z in [0, {Z_MAX}], max relative error on [0, 9] (f64): {rel:.3e}")
print("const ERFC_P: [f32; %d] = [" % (DEGREE + 1))
for c in coeffs:
    print(f"    {c:.9e},")
print("];")
