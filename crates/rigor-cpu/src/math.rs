//! Element functions the row kernels are built from: an `f32` exp and ln that the compiler
//! can vectorise (branch-free, no table, no libm call), the `f64` ones from `std`, and a
//! runtime choice of the widest instruction set the CPU has.
//!
//! **Accuracy.** [`exp_f32`] is the Cephes `expf` scheme (Moshier, *Methods and Programs for
//! Mathematical Functions*, 1989): $e^x = 2^k e^r$ with $k = \operatorname{round}(x/\ln 2)$,
//! $r = x - k\ln 2$ split in two constants, and a degree-7 polynomial for $e^r$ on
//! $|r| \le \ln 2/2$. [`ln_f32`] is Cephes `logf`: $x = m\\,2^e$ with $m \in [\sqrt{1/2}, \sqrt 2)$
//! and a degree-9 polynomial in $m - 1$. Both stay within 2 ulp of the correctly rounded value
//! on normal inputs (tested against `f64` in this module).
//!
//! **Specials.** `exp_f32`: `NaN → NaN`, `−∞ → 0`, `+∞ → +∞`, results below the smallest
//! normal flush to `0` (weights that small are `0` in any row of `f32` weights summing to one),
//! above `f32::MAX` → `+∞`. `ln_f32`: `NaN` and negatives → `NaN`, `0 → −∞`, `+∞ → +∞`,
//! subnormal inputs are read as `0` (→ `−∞`).

/// Floating-point element types the kernels run on (`f32` and `f64`).
pub trait Real:
    Copy
    + PartialOrd
    + Send
    + Sync
    + core::fmt::Debug
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
    + 'static
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `−∞`.
    const NEG_INFINITY: Self;
    /// `e^x` (see the module docs for `f32`).
    fn exp(self) -> Self;
    /// `ln x` (see the module docs for `f32`).
    fn ln(self) -> Self;
    /// The nearest value of this type (`as` conversion).
    fn from_f64(v: f64) -> Self;
    /// Widened to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Whether the value is `NaN`.
    fn is_nan(self) -> bool;
    /// `self^p` (from `std`).
    fn powf(self, p: Self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    #[inline(always)]
    fn exp(self) -> Self {
        exp_f32(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        ln_f32(self)
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    #[inline(always)]
    fn powf(self, p: Self) -> Self {
        self.powf(p)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    #[inline(always)]
    fn exp(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn ln(self) -> Self {
        self.ln()
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }
    #[inline(always)]
    fn powf(self, p: Self) -> Self {
        self.powf(p)
    }
}

/// `1.5 · 2^23`: adding it to a float of magnitude < 2^22 rounds to the nearest integer, which
/// is then held in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// Above this `e^x` overflows `f32`.
const EXP_HI: f32 = 88.376_26;
/// Below this `e^x` is under the smallest normal `f32`.
const EXP_LO: f32 = -87.336_55;

/// `e^x` in `f32`, vectorisable (see the module docs).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let xc = if x > EXP_HI { EXP_HI } else { x };
    let xc = if xc < EXP_LO { EXP_LO } else { xc };
    let t = xc * LOG2E + ROUND_MAGIC;
    let k = t - ROUND_MAGIC;
    let ki = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let r = xc - k * LN2_HI - k * LN2_LO;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let er = r2 * p + r + 1.0;
    let scale = f32::from_bits(((ki + 127) as u32) << 23);
    let y = er * scale;
    let y = if x > EXP_HI { f32::INFINITY } else { y };
    let y = if x < EXP_LO { 0.0 } else { y };
    // NaN compares false everywhere above and would come out as a number: put it back.
    if x.is_nan() { x } else { y }
}

/// Coefficients of $P$ in $\operatorname{erfc}(z) = t\\,e^{-z^2 + P(t)}$, $t = 1/(1 + z/2)$,
/// highest degree first; fitted by `scripts/fit_erfc.py` (max relative error 4.8e-8 in f64 on
/// $z \in [0, 9]$).
const ERFC_P: [f32; 10] = [
    1.449_302_1e-1,
    -6.808_272e-1,
    1.156_733_8,
    -6.962_519e-1,
    -8.028_043e-2,
    1.267_586_4e-3,
    3.460_28e-2,
    3.866_404e-1,
    9.986_328e-1,
    -1.265_448,
];

/// $P(t)$ of [`ERFC_P`] by Horner's rule.
#[inline(always)]
fn erfc_poly(t: f32) -> f32 {
    let mut acc = ERFC_P[0];
    for &c in &ERFC_P[1..] {
        acc = acc * t + c;
    }
    acc
}

/// `½·erfc(|x|/√2)` and `e^{−x²/2}`, the two pieces GELU and its derivative share: the lower
/// normal tail $\Phi(-|x|)$ (relative error ≈ 3e-7 where it is a normal `f32`) and the
/// unnormalised density. `±∞` give `(0, 0)`; NaN gives NaN twice.
#[inline(always)]
fn normal_tail_and_density(x: f32) -> (f32, f32) {
    let z = x.abs() * core::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let gauss = exp_f32(-z * z);
    (0.5 * t * gauss * exp_f32(erfc_poly(t)), gauss)
}

/// The standard normal CDF $\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)$ in `f32`,
/// vectorisable, relative error ≲ 1e-6 on the lower tail (where a plain `1 + erf` would lose
/// every digit) and absolute ≲ 1e-7 elsewhere. $\Phi(-\infty) = 0$, $\Phi(\infty) = 1$, NaN → NaN.
#[inline(always)]
pub fn normal_cdf_f32(x: f32) -> f32 {
    let (tail, _) = normal_tail_and_density(x);
    if x < 0.0 { tail } else { 1.0 - tail }
}

/// GELU, $x\\,\Phi(x)$ (Hendrycks & Gimpel, 2016; the exact, erf form), in `f32`,
/// vectorisable. `gelu(−∞) = 0` and `gelu(∞) = ∞` (the limits, where $x\Phi(x)$ evaluated
/// naively is `−∞·0 = NaN`); NaN → NaN.
#[inline(always)]
pub fn gelu_f32(x: f32) -> f32 {
    let y = x * normal_cdf_f32(x);
    // x·Φ(x) → 0 as x → −∞: a zero instead of −∞·0.
    if x == f32::NEG_INFINITY { -0.0 } else { y }
}

/// $\frac{d}{dx}\\,x\Phi(x) = \Phi(x) + x\\,\varphi(x)$, $\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}$,
/// in `f32`, vectorisable. The limits at `±∞` are `1` and `0`; NaN → NaN.
#[inline(always)]
pub fn gelu_grad_f32(x: f32) -> f32 {
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    let (tail, gauss) = normal_tail_and_density(x);
    let cdf = if x < 0.0 { tail } else { 1.0 - tail };
    // x·φ(x) → 0 at ±∞, where the product would be ∞·0.
    let slope = if gauss == 0.0 {
        0.0
    } else {
        x * gauss * INV_SQRT_2PI
    };
    cdf + slope
}

/// `ln x` in `f32`, vectorisable (see the module docs).
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    const SQRT_HALF: f32 = core::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    // x = m · 2^e with m ∈ [0.5, 1).
    let e = ((bits >> 23) & 0xff) as i32 - 126;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let small = m < SQRT_HALF;
    let e = if small { e - 1 } else { e } as f32;
    let f = if small { m + m - 1.0 } else { m - 1.0 };
    let z = f * f;
    let p = (((((((7.037_683_6e-2 * f - 1.151_461e-1) * f + 1.167_699_9e-1) * f
        - 1.242_014_1e-1)
        * f
        + 1.424_932_3e-1)
        * f
        - 1.666_805_8e-1)
        * f
        + 2.000_071_4e-1)
        * f
        - 2.499_999_4e-1)
        * f
        + 3.333_333e-1;
    let y = p * f * z + e * -2.121_944_4e-4 - 0.5 * z;
    let y = f + y + e * 0.693_359_4;
    let normal = x >= f32::MIN_POSITIVE;
    let y = if normal { y } else { f32::NEG_INFINITY };
    let y = if x == f32::INFINITY { x } else { y };
    if x < 0.0 || x.is_nan() { f32::NAN } else { y }
}

/// Runs `$body` compiled for the widest x86-64 vector extension the CPU reports (AVX-512,
/// then AVX2 + FMA), falling back to the baseline build. The functions `$body` calls must be
/// `#[inline(always)]` so that they are compiled inside the chosen instruction set.
#[macro_export]
macro_rules! with_widest_simd {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn inner($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { inner($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { inner($($arg),*) }
                if $crate::has_avx512() {
                    // SAFETY: the CPU reports every feature `avx512` is compiled for.
                    return unsafe { avx512($($arg),*) };
                }
                if $crate::has_avx2() {
                    // SAFETY: the CPU reports every feature `avx2` is compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            inner($($arg),*)
        }
    };
}

/// Whether the CPU has the AVX-512 subsets the kernels are compiled for (cached).
#[cfg(target_arch = "x86_64")]
pub fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512dq")
        && has_avx2()
}

/// Whether the CPU has AVX2 and FMA (cached).
#[cfg(target_arch = "x86_64")]
pub fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Lanes the kernels' manual accumulators use: wide enough for a 512-bit register of `f32`.
pub const LANES: usize = 16;

/// Maximum of `xs` ignoring `NaN` (as `f32::max`), with `−∞` for an empty slice, and the
/// number of entries above `−∞`; written lane-wise so it vectorises.
#[inline(always)]
pub fn max_and_count<T: Real>(xs: &[T]) -> (T, usize) {
    let mut acc = [T::NEG_INFINITY; LANES];
    let mut cnt = [0usize; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            let v = c[j];
            acc[j] = if v > acc[j] { v } else { acc[j] };
            cnt[j] += usize::from(v > T::NEG_INFINITY);
        }
    }
    let mut m = T::NEG_INFINITY;
    let mut n = 0;
    for j in 0..LANES {
        m = if acc[j] > m { acc[j] } else { m };
        n += cnt[j];
    }
    for &v in chunks.remainder() {
        m = if v > m { v } else { m };
        n += usize::from(v > T::NEG_INFINITY);
    }
    (m, n)
}

/// `Σ f(xᵢ)` with [`LANES`] partial sums, so it vectorises and rounds like a pairwise sum.
#[inline(always)]
pub fn lane_sum<T: Real>(xs: &[T], f: impl Fn(T) -> T) -> T {
    let mut acc = [T::ZERO; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            acc[j] = acc[j] + f(c[j]);
        }
    }
    let mut s = T::ZERO;
    for &v in chunks.remainder() {
        s = s + f(v);
    }
    tree_sum(acc) + s
}

/// `Σ f(xᵢ, yᵢ)` over two equally long slices, lane-wise.
#[inline(always)]
pub fn lane_sum2<T: Real>(xs: &[T], ys: &[T], f: impl Fn(T, T) -> T) -> T {
    debug_assert_eq!(xs.len(), ys.len());
    let mut acc = [T::ZERO; LANES];
    let mut cx = xs.chunks_exact(LANES);
    let mut cy = ys.chunks_exact(LANES);
    for (a, b) in (&mut cx).zip(&mut cy) {
        for j in 0..LANES {
            acc[j] = acc[j] + f(a[j], b[j]);
        }
    }
    let mut s = T::ZERO;
    for (&a, &b) in cx.remainder().iter().zip(cy.remainder()) {
        s = s + f(a, b);
    }
    tree_sum(acc) + s
}

#[inline(always)]
fn tree_sum<T: Real>(mut acc: [T; LANES]) -> T {
    let mut w = LANES / 2;
    while w > 0 {
        for j in 0..w {
            acc[j] = acc[j] + acc[j + w];
        }
        w /= 2;
    }
    acc[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulp_distance(a: f32, b: f32) -> u32 {
        if a == b {
            return 0;
        }
        let ia = a.to_bits() as i32;
        let ib = b.to_bits() as i32;
        ia.abs_diff(ib)
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_correctly_rounded_value() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x < 88.3 {
            let want = (x as f64).exp() as f32;
            worst = worst.max(ulp_distance(exp_f32(x), want));
            x += 0.000_731;
        }
        assert!(worst <= 2, "worst {worst} ulp");
    }

    /// GELU and its derivative in f64 from an independent erfc (series / continued fraction).
    fn gelu_f64(x: f64) -> (f64, f64) {
        let cdf = 0.5 * libm_erfc(-x / std::f64::consts::SQRT_2);
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (x * cdf, cdf + x * pdf)
    }

    /// erfc in f64 by its Taylor series (|x| < 2) or continued fraction (|x| ≥ 2), enough for
    /// a 1e-6 check of the f32 approximation.
    fn libm_erfc(x: f64) -> f64 {
        if x < 0.0 {
            return 2.0 - libm_erfc(-x);
        }
        if x < 2.0 {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term.abs() > 1e-17 * sum.abs() {
                n += 1.0;
                term *= -x * x / n;
                sum += term / (2.0 * n + 1.0);
            }
            1.0 - sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // Lentz-free backward evaluation of the continued fraction.
            let mut f = 0.0;
            for k in (1..200).rev() {
                f = (k as f64 / 2.0) / (x + f);
            }
            (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + f)
        }
    }

    #[test]
    fn gelu_and_its_gradient_match_an_f64_oracle() {
        let (mut worst_v, mut worst_g) = (0.0f64, 0.0f64);
        let mut x = -13.0f32;
        while x < 13.0 {
            let (v, g) = gelu_f64(f64::from(x));
            // Relative where |value| > 1e-7, absolute in units of 1e-7 below.
            let err = |got: f32, want: f64| (f64::from(got) - want).abs() / want.abs().max(1e-7);
            if v.abs() > 1e-37 {
                worst_v = worst_v.max(err(gelu_f32(x), v));
            }
            worst_g = worst_g.max((f64::from(gelu_grad_f32(x)) - g).abs());
            x += 0.000_377;
        }
        assert!(worst_v < 2e-6, "gelu worst relative error {worst_v:.2e}");
        assert!(worst_g < 1e-6, "gelu' worst absolute error {worst_g:.2e}");
        assert!((f64::from(normal_cdf_f32(-5.0)) / 2.866_515_718_791_939e-7 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn gelu_specials() {
        assert!(gelu_f32(f32::NAN).is_nan() && gelu_grad_f32(f32::NAN).is_nan());
        assert_eq!(gelu_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(gelu_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(gelu_grad_f32(f32::INFINITY), 1.0);
        assert_eq!(gelu_grad_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(gelu_f32(f32::MAX), f32::MAX);
        assert_eq!(gelu_f32(-f32::MAX), 0.0);
        assert_eq!(gelu_grad_f32(f32::MAX), 1.0);
        assert_eq!(gelu_grad_f32(-3e38), 0.0);
        assert_eq!(gelu_f32(0.0), 0.0);
        assert_eq!(gelu_grad_f32(0.0), 0.5);
        let tiny = 1e-40f32; // subnormal: gelu(x) ≈ x/2
        assert!((gelu_f32(tiny) - tiny * 0.5).abs() <= f32::from_bits(1));
    }

    #[test]
    fn exp_specials() {
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(-1e30), 0.0);
        assert_eq!(exp_f32(1e30), f32::INFINITY);
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-88.0), 0.0);
    }

    #[test]
    fn ln_is_within_two_ulp_of_the_correctly_rounded_value() {
        let mut worst = 0;
        let mut x = f32::MIN_POSITIVE;
        while x < 3e38 {
            let want = (x as f64).ln() as f32;
            worst = worst.max(ulp_distance(ln_f32(x), want));
            x *= 1.000_37;
        }
        for i in 1..100_000 {
            let x = i as f32 * 1e-5;
            let want = (x as f64).ln() as f32;
            worst = worst.max(ulp_distance(ln_f32(x), want));
        }
        assert!(worst <= 2, "worst {worst} ulp");
    }

    #[test]
    fn ln_specials() {
        assert!(ln_f32(f32::NAN).is_nan());
        assert!(ln_f32(-1.0).is_nan());
        assert_eq!(ln_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(ln_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(ln_f32(1e-40), f32::NEG_INFINITY);
    }

    #[test]
    fn lane_reductions_match_plain_ones() {
        let xs: Vec<f32> = (0..1000).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
        let (m, n) = max_and_count(&xs);
        assert_eq!(m, 50.0);
        assert_eq!(n, 1000);
        let s = lane_sum(&xs, |v| v);
        assert_eq!(s, xs.iter().sum::<f32>());
        let (m, n) = max_and_count::<f32>(&[f32::NEG_INFINITY; 3]);
        assert_eq!((m, n), (f32::NEG_INFINITY, 0));
        assert_eq!(max_and_count::<f32>(&[]).1, 0);
    }
}
