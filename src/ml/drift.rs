//! Data drift between a reference sample and a current sample of one numeric column.
//!
//! - [`ks_2samp`]: the two-sample Kolmogorov-Smirnov test, giving the numbers of SciPy's
//!   `scipy.stats.ks_2samp(reference, current)` with its defaults (`alternative='two-sided'`,
//!   `method='auto'`), SciPy 1.17's algorithm: exact p-value when both samples have at most
//!   10 000 values, else the exact one-sample distribution `kstwo` at the samples' effective size.
//! - [`psi`]: the Population Stability Index over quantile bins of the reference.
//! - [`column_drift`]: both at once, for a report.
//!
//! Plain `f64` Rust (no allocation beyond sorted copies and small work arrays), so it runs the same
//! natively and in wasm32. Invalid input (an empty sample, a NaN) is an `Err` naming the problem;
//! nothing panics, whatever the sizes or values (infinities are ordinary values for the KS test).

use serde::Serialize;

/// Result of [`ks_2samp`]: the statistic `D = sup |F_ref(x) - F_cur(x)|` and its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KsResult {
    pub statistic: f64,
    pub pvalue: f64,
}

/// Drift of one column: the KS test and the PSI (deciles of the reference).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDrift {
    pub ks_statistic: f64,
    pub ks_pvalue: f64,
    pub psi: f64,
}

/// Bins [`column_drift`] uses for the PSI: deciles of the reference.
pub const DEFAULT_PSI_BINS: usize = 10;

/// Floor on a bin's proportion in the PSI, so an empty bin gives a large but finite term.
pub const PSI_EPSILON: f64 = 1e-4;

/// Most bins [`psi`] accepts (one count per bin is allocated).
pub const MAX_PSI_BINS: usize = 10_000;

/// SciPy's `MAX_AUTO_N`: `method='auto'` is exact when both sizes are at most this.
const MAX_EXACT_N: usize = 10_000;

/// KS test and PSI (over [`DEFAULT_PSI_BINS`] reference deciles) of `current` against `reference`.
pub fn column_drift(reference: &[f64], current: &[f64]) -> Result<ColumnDrift, String> {
    let ks = ks_2samp(reference, current)?;
    let psi = psi(reference, current, DEFAULT_PSI_BINS)?;
    Ok(ColumnDrift {
        ks_statistic: ks.statistic,
        ks_pvalue: ks.pvalue,
        psi,
    })
}

/// Two-sample, two-sided Kolmogorov-Smirnov test: what `scipy.stats.ks_2samp(reference, current)`
/// returns (statistic and p-value) with SciPy's defaults.
///
/// The statistic is the largest gap between the two empirical CDFs. The p-value is SciPy's
/// `method='auto'`:
/// - both sizes at most 10 000: the exact probability `P(D >= d)` under the null hypothesis,
///   counting lattice paths (and the statistic becomes `h / lcm(n1, n2)`, the gap rounded to the
///   lattice, as SciPy reports it); if that computation cannot give a probability in [0, 1], SciPy
///   falls back to the asymptotic branch below, and so does this;
/// - otherwise: `kstwo.sf(d, round(n1 * n2 / (n1 + n2)))`, the exact one-sample KS distribution
///   at the effective sample size.
///
/// The p-value is clipped to [0, 1]. Errors: an empty sample or a NaN value.
pub fn ks_2samp(reference: &[f64], current: &[f64]) -> Result<KsResult, String> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    let reference = sorted(reference);
    let current = sorted(current);
    let (n1, n2) = (reference.len(), current.len());
    let mut d = largest_ecdf_gap(&reference, &current);

    if n1.max(n2) <= MAX_EXACT_N {
        let exact = exact_two_sided(n1 as u64, n2 as u64, d);
        // SciPy keeps the lattice-rounded statistic even when it falls back.
        d = exact.statistic;
        if let Some(pvalue) = exact.pvalue {
            return Ok(KsResult {
                statistic: d,
                pvalue,
            });
        }
    }

    let (big, small) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let effective_n = (big * small / (big + small)).round_ties_even();
    // SciPy would answer NaN for an effective size of 0 (only conceivable for two one-element
    // samples, whose exact branch always succeeds); size 1 is the meaningful limit.
    let effective_n = effective_n.max(1.0) as u64;
    let pvalue = kstwo_sf(effective_n, d).clamp(0.0, 1.0);
    Ok(KsResult {
        statistic: d,
        pvalue,
    })
}

/// Population Stability Index of `current` against `reference` over `bins` quantile bins of the
/// reference.
///
/// Definition:
/// - edges `e_k` = the `k / bins` quantile of the reference for `k = 1 .. bins-1`, with linear
///   interpolation between order statistics (NumPy's default `np.quantile`); deciles for
///   `bins = 10`;
/// - bin `k` holds the values `x` with `e_k < x <= e_{k+1}`, where `e_0 = -inf` and
///   `e_bins = +inf` (the outer bins are open-ended, so every value falls in some bin; tied edges
///   give empty bins, which contribute 0);
/// - `ref_k`, `cur_k` = the fraction of each sample in bin `k`, floored at [`PSI_EPSILON`] (1e-4)
///   so that `ln` stays finite;
/// - `PSI = sum over k of (cur_k - ref_k) * ln(cur_k / ref_k)`.
///
/// Each term is >= 0, so PSI >= 0, and identical samples give exactly 0. Common reading: below
/// 0.1 no significant shift, 0.1 to 0.25 moderate, above 0.25 significant.
///
/// Errors: an empty sample, a NaN value, `bins` of 0 or above [`MAX_PSI_BINS`].
pub fn psi(reference: &[f64], current: &[f64], bins: usize) -> Result<f64, String> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    if bins == 0 {
        return Err("PSI needs at least one bin (bins = 0)".to_string());
    }
    if bins > MAX_PSI_BINS {
        return Err(format!(
            "PSI bins must be at most {MAX_PSI_BINS} (got {bins})"
        ));
    }
    let sorted_reference = sorted(reference);
    let edges: Vec<f64> = (1..bins)
        .map(|k| quantile(&sorted_reference, k as f64 / bins as f64))
        .collect();

    let fractions = |sample: &[f64]| -> Vec<f64> {
        let mut counts = vec![0usize; bins];
        for &x in sample {
            // Number of edges strictly below x = index of the bin (e_k, e_{k+1}] holding x.
            counts[edges.partition_point(|&edge| edge < x)] += 1;
        }
        counts
            .into_iter()
            .map(|count| (count as f64 / sample.len() as f64).max(PSI_EPSILON))
            .collect()
    };
    let reference_fractions = fractions(reference);
    let current_fractions = fractions(current);
    Ok(reference_fractions
        .iter()
        .zip(&current_fractions)
        .map(|(&r, &c)| (c - r) * (c / r).ln())
        .sum())
}

// ---------------------------------------------------------------------------------------------
// Input handling and the statistic

fn check_sample(name: &str, sample: &[f64]) -> Result<(), String> {
    if sample.is_empty() {
        return Err(format!("{name} sample is empty"));
    }
    if let Some(index) = sample.iter().position(|x| x.is_nan()) {
        return Err(format!("{name} sample contains NaN (at index {index})"));
    }
    Ok(())
}

/// A sorted copy; callers have rejected NaN, so `total_cmp` is the numeric order (with -0.0 just
/// before 0.0, which the comparisons below treat as equal).
fn sorted(sample: &[f64]) -> Vec<f64> {
    let mut copy = sample.to_vec();
    copy.sort_unstable_by(f64::total_cmp);
    copy
}

/// `max |F_a(x) - F_b(x)|` over the pooled values, with the ECDFs right-continuous (ties counted
/// in full), computed as SciPy does: `count_a / n_a - count_b / n_b` in `f64`.
fn largest_ecdf_gap(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut largest = 0.0f64;
    // Once one sample is used up its ECDF is 1 and the gap only shrinks, so stop there.
    while i < a.len() && j < b.len() {
        let value = if a[i] <= b[j] { a[i] } else { b[j] };
        while i < a.len() && a[i] <= value {
            i += 1;
        }
        while j < b.len() && b[j] <= value {
            j += 1;
        }
        largest = largest.max((i as f64 / na - j as f64 / nb).abs());
    }
    largest
}

/// NumPy's default (linear) quantile of sorted, NaN-free data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let fraction = position - below as f64;
    let low = sorted[below];
    if fraction == 0.0 || below + 1 >= sorted.len() {
        return low;
    }
    let high = sorted[below + 1];
    if low == high {
        return low;
    }
    // NumPy's `_lerp`: interpolate from the nearer end.
    let value = if fraction < 0.5 {
        low + (high - low) * fraction
    } else {
        high - (high - low) * (1.0 - fraction)
    };
    // Only infinities make the interpolation NaN; take the nearer order statistic then.
    if value.is_nan() {
        if fraction < 0.5 {
            low
        } else {
            high
        }
    } else {
        value
    }
}

// ---------------------------------------------------------------------------------------------
// Exact two-sample p-value (SciPy's `_attempt_exact_2kssamp`, two-sided)

struct ExactAttempt {
    /// The statistic rounded to the lattice of the two ECDFs: `h / lcm(n1, n2)`.
    statistic: f64,
    /// `P(D >= statistic)`, or `None` when the computation did not give a probability in [0, 1].
    pvalue: Option<f64>,
}

fn exact_two_sided(n1: u64, n2: u64, d: f64) -> ExactAttempt {
    let g = gcd(n1, n2);
    // Both ECDFs step in multiples of 1/lcm, so D = h / lcm for an integer h.
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let statistic = h as f64 / lcm as f64;
    if h == 0 {
        return ExactAttempt {
            statistic,
            pvalue: Some(1.0),
        };
    }
    let p = if n1 == n2 {
        equal_sizes_tail(n1, h)
    } else {
        unequal_sizes_tail(n1, n2, g, h)
    };
    ExactAttempt {
        statistic,
        pvalue: (0.0..=1.0).contains(&p).then_some(p),
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `P(D >= h/n)` for two samples of the same size `n`: the share of the `C(2n, n)` lattice paths
/// that touch one of the lines `x - y = ±h`. By reflection it is
/// `2 * sum_{k>=1} (-1)^(k+1) C(2n, n - k h) / C(2n, n)`; the alternating sum is evaluated as
/// `2 * r_0 (1 - r_1 (1 - r_2 (...)))` with `r_k = C(2n, n-(k+1)h) / C(2n, n-kh)`, each ratio a
/// product of `h` factors, which avoids huge binomials and cancellation. The factors are formed
/// in SciPy's order so results agree to the last bit (that decides SciPy's fallback when the
/// result rounds just above 1).
fn equal_sizes_tail(n: u64, h: u64) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut nested = 0.0f64;
    for k in (0..=n / h).rev() {
        let mut ratio = 1.0f64;
        for j in 0..h {
            ratio = (n - k * h - j) as f64 * ratio / (n + k * h + j + 1) as f64;
        }
        nested = ratio * (1.0 - nested);
    }
    2.0 * nested
}

/// `P(D >= h/lcm)` for sizes `n1 != n2` (gcd `g`): the share of monotone lattice paths from (0, 0)
/// to (m, n) that leave the band `|x/m - y/n| < h/lcm`, i.e. `|x n/g - y m/g| < h`.
///
/// Walks the grid column by column keeping, for each point, the fraction of the paths reaching it
/// that have already left the band (Viehmann's numerically stable form of Hodges' "inside"
/// method): points outside the band have fraction 1, and a point inside averages its left and
/// lower neighbours with weights `x/(x+y)` and `y/(x+y)` (their shares of its paths). Only the
/// band's window of each column is updated; it slides upward, so one column array suffices.
fn unequal_sizes_tail(n1: u64, n2: u64, g: u64, h: u64) -> f64 {
    let (m, n) = (n1.max(n2) as i64, n1.min(n2) as i64);
    let (mg, ng, h) = (m / g as i64, n / g as i64, h as i64);
    // Window of column x: y in [low, high) with |ng x - mg y| < h.
    let window = |x: i64| -> (i64, i64) {
        let low = ((ng * x - h).div_euclid(mg) + 1).clamp(0, n);
        let high = (ng * x + h + mg - 1).div_euclid(mg).min(n + 1);
        (low, high)
    };
    // column[y]: the fraction at (x, y) for the column x reached so far. Windows only move up,
    // so points above the current window have never been inside one and hold 1.
    let mut column = vec![1.0f64; n as usize + 1];
    let (mut low, high) = window(0);
    column[..high as usize].fill(0.0); // start column inside the band: no path has left yet
    for x in 1..=m {
        let previous_low = low;
        let high;
        (low, high) = window(x);
        if high <= low {
            return 1.0; // the band closes: every path leaves it
        }
        // Points that dropped below the window are outside the band now.
        column[previous_low as usize..low as usize].fill(1.0);
        let mut below = if low == 0 { 0.0 } else { 1.0 };
        for y in low..high {
            // column[y] still holds (x-1, y); `below` is (x, y-1). Same operation order as SciPy.
            below = (column[y as usize] * x as f64 + below * y as f64) / (x + y) as f64;
            column[y as usize] = below;
        }
    }
    column[n as usize]
}

// ---------------------------------------------------------------------------------------------
// Asymptotic branch: survival function of the one-sample two-sided KS statistic D_n
// (SciPy's `kstwo.sf(x, n)`, i.e. `scipy.stats._ksstats._kolmogn(n, x, cdf=False)`)

const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;
const TWO_POW_MINUS_128: f64 = 1.0 / TWO_POW_128;

/// `P(D_n >= x)`, choosing among exact and asymptotic formulas as Simard & L'Ecuyer (2011) do and
/// SciPy implements: Ruben-Gambino closed forms at the ends, `2 * smirnov(n, x)` where the two
/// one-sided events cannot overlap or the overlap is negligible, the Durbin matrix (small `n x`),
/// Pomeranz's recursion (n <= 140) or the Pelz-Good expansion (large n) otherwise.
fn kstwo_sf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    // `kstwo`'s support is (1/(2n), 1): SciPy answers 1 below it and 0 above it.
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.5 / nf {
        return 1.0;
    }
    let t = nf * x;
    if t <= 1.0 {
        // Ruben-Gambino: P(D_n <= x) = n!/n^n (2t - 1)^n for 1/(2n) <= x <= 1/n.
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |product, i| {
                product * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
            })
        } else {
            (ln_factorial_over_power(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        // Ruben-Gambino: P(D_n >= x) = 2 (1 - x)^n for x >= 1 - 1/n.
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        // D_n+ >= x and D_n- >= x cannot both happen: exactly twice the one-sided tail.
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let n_x_squared = t * x;
    if n <= 140 {
        let cdf = if n_x_squared <= 0.754693 {
            durbin_matrix_cdf(n, x)
        } else if n_x_squared <= 4.0 {
            pomeranz_cdf(n, x)
        } else {
            return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if n_x_squared >= 370.0 {
        return 0.0;
    }
    if n_x_squared >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_matrix_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// `ln(n! / n^n)` by Stirling's series with `n ln n` cancelled analytically.
fn ln_factorial_over_power(n: f64) -> f64 {
    // B_{2j} / (2j (2j-1)) for j = 8 down to 1.
    const STIRLING: [f64; 8] = [
        -0.029550653594771242,
        0.00641025641025641,
        -0.0019175269175269176,
        0.0008417508417508417,
        -0.0005952380952380953,
        0.0007936507936507937,
        -0.002777777777777778,
        0.08333333333333333,
    ];
    let inverse = 1.0 / n;
    let series = STIRLING
        .iter()
        .fold(0.0, |acc, &c| acc * (inverse * inverse) + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + inverse * series
}

/// `x * 2^exponent`, in steps so that intermediate powers of two stay representable.
fn times_pow2(mut x: f64, mut exponent: i64) -> f64 {
    while exponent > 0 && x.is_finite() && x != 0.0 {
        let step = exponent.min(1000);
        x *= 2f64.powi(step as i32);
        exponent -= step;
    }
    while exponent < 0 && x.is_finite() && x != 0.0 {
        let step = exponent.max(-1000);
        x *= 2f64.powi(step as i32);
        exponent -= step;
    }
    x
}

/// `P(D_n <= d)` by Durbin's matrix formula, evaluated as Marsaglia, Tsang & Wang (2003) do:
/// with `d = (k - h)/n`, `k` a positive integer and `0 <= h < 1`, the probability is
/// `n!/n^n * (H^n)[k-1][k-1]` for a `(2k-1)`-square matrix `H` built from `h`. Powers of two are
/// factored out as the entries grow (exactly, so nothing is lost to the scaling).
fn durbin_matrix_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let size = 2 * k - 1;

    // inverse_factorial[j] = 1/j!
    let mut inverse_factorial = vec![1.0f64; size + 1];
    for j in 1..=size {
        inverse_factorial[j] = inverse_factorial[j - 1] / j as f64;
    }
    let mut matrix = vec![0.0f64; size * size];
    for row in 0..size {
        for col in 0..=(row + 1).min(size - 1) {
            matrix[row * size + col] = inverse_factorial[row + 1 - col];
        }
    }
    // First column and last row lose the paths cut off by the boundary: (1 - h^i)/i!.
    for i in 1..size {
        matrix[(i - 1) * size] = (1.0 - h.powi(i as i32)) * inverse_factorial[i];
        matrix[(size - 1) * size + (size - i)] = (1.0 - h.powi(i as i32)) * inverse_factorial[i];
    }
    let corner = 1.0 - 2.0 * h.powi(size as i32) + (2.0 * h - 1.0).max(0.0).powi(size as i32);
    matrix[(size - 1) * size] = corner * inverse_factorial[size];

    let multiply = |a: &[f64], b: &[f64]| -> Vec<f64> {
        let mut product = vec![0.0f64; size * size];
        for row in 0..size {
            for inner in 0..size {
                let a_value = a[row * size + inner];
                if a_value == 0.0 {
                    continue;
                }
                let b_row = &b[inner * size..(inner + 1) * size];
                let out = &mut product[row * size..(row + 1) * size];
                for (o, &b_value) in out.iter_mut().zip(b_row) {
                    *o += a_value * b_value;
                }
            }
        }
        product
    };
    let centre = (k - 1) * size + (k - 1);
    // power = H^(bits of n seen so far) * 2^-power_exponent, square = H^(2^i) * 2^-square_exponent
    let mut power: Vec<f64> = (0..size * size)
        .map(|i| if i % (size + 1) == 0 { 1.0 } else { 0.0 })
        .collect();
    let mut power_exponent = 0i64;
    let mut square = matrix;
    let mut square_exponent = 0i64;
    let mut remaining = n;
    while remaining > 0 {
        if remaining % 2 == 1 {
            power = multiply(&power, &square);
            power_exponent += square_exponent;
            if power[centre].abs() > TWO_POW_128 {
                power.iter_mut().for_each(|v| *v *= TWO_POW_MINUS_128);
                power_exponent += 128;
            }
        }
        remaining /= 2;
        if remaining > 0 {
            square = multiply(&square, &square);
            square_exponent *= 2;
            if square[centre].abs() > TWO_POW_128 {
                square.iter_mut().for_each(|v| *v *= TWO_POW_MINUS_128);
                square_exponent += 128;
            }
        }
    }

    // Multiply by n!/n^n one factor at a time, rescaling when the value gets tiny.
    let mut p = power[centre];
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < TWO_POW_MINUS_128 {
            p *= TWO_POW_128;
            power_exponent -= 128;
        }
    }
    times_pow2(p, power_exponent).clamp(0.0, 1.0)
}

/// `P(D_n <= d)` by Pomeranz's recursion (1974) as Simard & L'Ecuyer describe it.
///
/// The event is a Poisson-process statement: split [0, 1] at the points `i/n ± d`; row `i` of
/// the recursion holds, for each count `j`, the (scaled) probability of having seen `j` points by
/// the `i`-th split point while staying within the band. Each row is the previous one convolved
/// with Poisson weights `(len/n)^m / m!` of the interval between split points, whose lengths are
/// `g`, then alternately `1 - 2g` and `2g`, then `g` again (`g = min(f, 1-f)`, `f` the fractional
/// part of `n d`). The answer is `n! * row_{2n+1}[n]`.
fn pomeranz_cdf(n: u64, d: f64) -> f64 {
    let n = n as i64;
    let t = n as f64 * d;
    let whole = t.floor() as i64;
    let f = t - whole as f64;
    let g = f.min(1.0 - f);
    let has_fraction = i64::from(f > 0.0);
    let fraction_over_half = i64::from(f > 0.5);

    // Poisson weights without the exp factor (it cancels in n!).
    let weight_count = 2 * (whole + 1) as usize;
    let weights = |length: f64| -> Vec<f64> {
        let mut w = vec![1.0f64; weight_count];
        for m in 1..weight_count {
            w[m] = w[m - 1] * (length / n as f64) / m as f64;
        }
        w
    };
    let short = weights(g);
    let double = weights(2.0 * g);
    let remainder = weights(1.0 - 2.0 * g);

    // Inclusive range of counts j that can be non-zero in row i.
    let row_range = |i: i64| -> (i64, i64) {
        let (low, high) = if i == 0 {
            (1 - whole - has_fraction, whole + has_fraction - 1)
        } else if i == 2 * n + 1 {
            (n - whole - has_fraction + 1, n)
        } else if i % 2 == 1 {
            let half = (i + 1) / 2;
            (
                half - whole - fraction_over_half,
                half + whole + has_fraction - 2,
            )
        } else {
            let half = i / 2;
            (half - whole, half + whole + fraction_over_half - 1)
        };
        (low.max(0), high.min(n))
    };

    let width = n as usize + 1;
    let mut previous = vec![0.0f64; width];
    let mut current = vec![0.0f64; width];
    current[0] = 1.0;
    let mut exponent = 0i64;
    let (mut previous_low, _) = row_range(0);
    for i in 1..=2 * n + 1 {
        std::mem::swap(&mut previous, &mut current);
        current.iter_mut().for_each(|v| *v = 0.0);
        let (low, high) = row_range(i);
        let w = if i == 1 || i == 2 * n + 1 {
            &short
        } else if i % 2 == 1 {
            &double
        } else {
            &remainder
        };
        for j in low.max(0)..=high {
            let mut sum = 0.0;
            for k in previous_low..=j {
                sum += previous[k as usize] * w[(j - k) as usize];
            }
            current[j as usize] = sum;
        }
        let largest = current.iter().fold(0.0f64, |a, &b| a.max(b));
        if largest > 0.0 && largest < TWO_POW_MINUS_128 {
            current.iter_mut().for_each(|v| *v *= TWO_POW_128);
            exponent -= 128;
        }
        previous_low = low;
    }

    let mut p = current[n as usize];
    for m in 1..=n {
        if p.abs() > TWO_POW_128 {
            p *= TWO_POW_MINUS_128;
            exponent += 128;
        }
        p *= m as f64;
    }
    times_pow2(p, exponent).clamp(0.0, 1.0)
}

/// Pelz & Good's (1976) expansion of `P(D_n <= x)` to order `n^(-3/2)`: the Li-Chien/Korolyuk
/// series `K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5` (`z = x sqrt(n)`) rewritten with the
/// Jacobi theta transform so that it converges fast for small `z`.
fn pelz_good_cdf(n: u64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z * z * z, z.powi(4), z.powi(6));
    let log_q = -PI * PI / 8.0 / z2;
    if log_q < -708.0 {
        return 0.0;
    }
    let q = log_q.exp();
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let sqrt_2pi = (2.0 * PI).sqrt();

    // Coefficients of the odd-m sums sum_m c(m) q^(m^2) of K0..K3, as polynomials in m^2.
    let k1 = [-z2, pi2 / 4.0];
    let k2 = [
        6.0 * z6 + 2.0 * z4,
        (2.0 * z4 - 5.0 * z2) * pi2 / 4.0,
        pi4 * (1.0 - 2.0 * z2) / 16.0,
    ];
    let k3 = [
        -30.0 * z6 - 90.0 * z.powi(8),
        pi2 * (135.0 * z4 - 96.0 * z6) / 4.0,
        pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0,
        pi6 * (5.0 - 30.0 * z2) / 64.0,
    ];
    let terms = (16.0 * z / PI).ceil() as u64;
    // Horner in q: consecutive odd squares differ by 8k, (2k+1)^2 - (2k-1)^2 = 8k.
    let mut sums = [0.0f64; 4];
    for k in (1..=terms).rev() {
        let m2 = ((2 * k - 1) * (2 * k - 1)) as f64;
        let coefficients = [
            1.0,
            k1[0] + k1[1] * m2,
            k2[0] + k2[1] * m2 + k2[2] * m2 * m2,
            k3[0] + k3[1] * m2 + k3[2] * m2 * m2 + k3[3] * m2 * m2 * m2,
        ];
        let step = q.powf(8.0 * k as f64);
        for (sum, c) in sums.iter_mut().zip(coefficients) {
            *sum = *sum * step + c;
        }
    }
    let denominators = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (sum, denominator) in sums.iter_mut().zip(denominators) {
        *sum = *sum * q * sqrt_2pi / denominator;
    }

    // K2 and K3 also carry sums over all integers k of polynomial(k) * exp(-pi^2 k^2 / (2 z^2)).
    let q_all = (-pi2 / 2.0 / z2).exp();
    let sqrt3_z = 3f64.sqrt() * z;
    let (mut k2_extra, mut k3_extra) = (0.0, 0.0);
    for k in (1..=terms).rev() {
        let kf = k as f64;
        let weight = kf * kf * q_all.powf(kf * kf);
        k2_extra += weight;
        k3_extra += (sqrt3_z + PI * kf) * (sqrt3_z - PI * kf) * weight;
    }
    sums[2] += k2_extra * pi2 * sqrt_2pi / (-36.0 * z3);
    sums[3] += k3_extra * pi2 * sqrt_2pi / (216.0 * z6);

    sums[0] + sums[1] / nf.sqrt() + sums[2] / nf + sums[3] / (nf * nf.sqrt())
}

/// `P(D_n+ >= x)`, the one-sided KS tail: SciPy's `scipy.special.smirnov(n, x)`.
///
/// Birnbaum-Tingey / Smirnov:
/// `x * sum_{v=0}^{floor(n(1-x))} C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)`,
/// summed with each positive term formed in logarithms (so nothing overflows for large `n`) and
/// stopped once the remaining terms cannot matter. Like SciPy, closed forms at the ends and, for
/// `n > 1e6`, the approximation `exp(-(6 n x + 1)^2 / (18 n))`.
fn smirnov_sf(n: u64, x: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) || n == 0 {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let nx = nf * x;
    if nx <= 1.0 {
        return 1.0 - x * (1.0 + x).powf(nf - 1.0);
    }
    // exp underflows below this (cephes' MINLOG).
    if -2.0 * nf * x * x < -708.3964185322641 {
        return 0.0;
    }
    if nx >= nf - 1.0 {
        return (1.0 - x).powf(nf);
    }
    if n > 1_000_000 {
        return (-(6.0 * nx + 1.0).powi(2) / 18.0 / nf).exp();
    }

    let ln_x = x.ln();
    // ln C(n, v), a running sum with its rounding error carried (Neumaier) since it grows to ~n.
    let (mut ln_binomial, mut ln_binomial_error) = (0.0f64, 0.0f64);
    let mut sum = 0.0f64;
    let half = n / 2;
    for v in 0..n {
        let vf = v as f64;
        let upper = (nf - vf) / nf - x; // 1 - x - v/n
        if upper <= 0.0 {
            break;
        }
        let lower = vf / nf + x; // x + v/n
        let ln_upper = if upper > 0.5 {
            (-lower).ln_1p()
        } else {
            upper.ln()
        };
        let ln_term = (ln_binomial + (vf - 1.0) * lower.ln() + (nf - vf) * ln_upper + ln_x)
            + ln_binomial_error;
        let term = ln_term.exp();
        sum += term;
        // Terms fall off after their peak; stop when even all remaining ones are negligible.
        let remaining = (nf * (1.0 - x) - vf).max(1.0);
        if term != 0.0 {
            if 4.0 * remaining * term < f64::EPSILON * sum {
                break;
            }
        } else if v > half {
            break;
        }
        let step = ((nf - vf) / (vf + 1.0)).ln();
        let next = ln_binomial + step;
        ln_binomial_error += if ln_binomial.abs() >= step.abs() {
            (ln_binomial - next) + step
        } else {
            (step - next) + ln_binomial
        };
        ln_binomial = next;
    }
    sum.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference numbers were recorded once from SciPy 1.17.1 (`scipy.stats.ks_2samp(a, b)` with
    // defaults, `scipy.stats.kstwo.sf(x, n)`) by this throwaway script; the samples are the same
    // formula in both languages:
    //
    //     import scipy.stats as st
    //     def formula(n, mult, modulus, div, shift):
    //         return [((i * mult) % modulus) / div + shift for i in range(n)]
    //     r = st.ks_2samp(a, b); print(repr(r.statistic), repr(r.pvalue))
    //     print(repr(st.kstwo.sf(x, n)))

    /// `((i * mult) % modulus) / div + shift` for `i` in `0..n`, as in the recording script.
    fn formula(n: u64, mult: u64, modulus: u64, div: f64, shift: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * mult) % modulus) as f64 / div + shift)
            .collect()
    }

    fn assert_matches_scipy(name: &str, a: &[f64], b: &[f64], statistic: f64, pvalue: f64) {
        let got = ks_2samp(a, b).unwrap();
        assert!(
            (got.statistic - statistic).abs() < 1e-6 && (got.pvalue - pvalue).abs() < 1e-6,
            "{name}: got {got:?}, SciPy gives statistic {statistic}, pvalue {pvalue}"
        );
        // The test is symmetric in its two samples.
        let swapped = ks_2samp(b, a).unwrap();
        assert!(
            (swapped.statistic - statistic).abs() < 1e-6,
            "{name} swapped"
        );
        assert!((swapped.pvalue - pvalue).abs() < 1e-6, "{name} swapped");
    }

    #[test]
    fn exact_equal_sizes_small() {
        // formula(5, 7919, 1000, 10.0, 0.0) vs formula(5, 104729, 1000, 10.0, 3.0)
        let a = formula(5, 7919, 1000, 10.0, 0.0);
        let b = formula(5, 104729, 1000, 10.0, 3.0);
        assert_matches_scipy("n=5", &a, &b, 0.4, 0.873015873015873);
        // formula(20, 7919, 1000, 10.0, 0.0) vs formula(20, 104729, 1000, 10.0, 10.0)
        let a = formula(20, 7919, 1000, 10.0, 0.0);
        let b = formula(20, 104729, 1000, 10.0, 10.0);
        assert_matches_scipy("n=20", &a, &b, 0.15, 0.9831368772656193);
    }

    #[test]
    fn exact_unequal_sizes() {
        // formula(30, 7919, 1000, 10.0, 0.0) vs formula(45, 104729, 1000, 10.0, 15.0)
        let a = formula(30, 7919, 1000, 10.0, 0.0);
        let b = formula(45, 104729, 1000, 10.0, 15.0);
        assert_matches_scipy("30 vs 45", &a, &b, 0.17777777777777778, 0.5806875573099555);
        // formula(7, 7919, 1000, 10.0, 0.0) vs formula(300, 104729, 1000, 10.0, 20.0)
        let a = formula(7, 7919, 1000, 10.0, 0.0);
        let b = formula(300, 104729, 1000, 10.0, 20.0);
        assert_matches_scipy("7 vs 300", &a, &b, 0.2833333333333333, 0.5498005904859546);
    }

    #[test]
    fn exact_with_ties() {
        // Values 0..9 and 1..10 only: formula(40, 7919, 10, 1.0, 0.0) vs formula(60, 104729, 10, 1.0, 1.0)
        let a = formula(40, 7919, 10, 1.0, 0.0);
        let b = formula(60, 104729, 10, 1.0, 1.0);
        assert_matches_scipy("ties 40 vs 60", &a, &b, 0.1, 0.9578213160376804);
    }

    #[test]
    fn identical_samples_give_pvalue_one() {
        let a = formula(25, 7919, 1000, 10.0, 0.0);
        assert_matches_scipy("identical", &a, &a, 0.0, 1.0);
        let got = ks_2samp(&a, &a).unwrap();
        assert_eq!((got.statistic, got.pvalue), (0.0, 1.0));
        // Same distribution, different sizes: [1, 2] vs [1, 1, 2, 2] has D = 0 too.
        let got = ks_2samp(&[1.0, 2.0], &[2.0, 1.0, 2.0, 1.0]).unwrap();
        assert_eq!((got.statistic, got.pvalue), (0.0, 1.0));
    }

    #[test]
    fn fully_separated_samples() {
        // 0..9 vs 100..114: formula(10, 1, 1000, 1.0, 0.0) vs formula(15, 1, 1000, 1.0, 100.0)
        let a = formula(10, 1, 1000, 1.0, 0.0);
        let b = formula(15, 1, 1000, 1.0, 100.0);
        assert_matches_scipy("separated", &a, &b, 1.0, 6.118528126873799e-07);
    }

    #[test]
    fn exact_result_just_above_one_falls_back_like_scipy() {
        // 0, 2, .., 12 vs 1, 3, .., 13: D = 1/7, whose exact tail rounds just above 1, so SciPy
        // warns "Exact calculation unsuccessful" and answers kstwo.sf(1/7, 4) instead of 1.
        let a = formula(7, 2, 1000, 1.0, 0.0);
        let b = formula(7, 2, 1000, 1.0, 1.0);
        assert_matches_scipy(
            "interleaved",
            &a,
            &b,
            0.14285714285714285,
            0.9999609537692629,
        );
    }

    #[test]
    fn one_element_samples() {
        assert_matches_scipy("1 vs 1", &[1.0], &[2.0], 1.0, 1.0);
        // [50] vs formula(50, 7919, 100, 1.0, 0.0)
        let b = formula(50, 7919, 100, 1.0, 0.0);
        assert_matches_scipy("1 vs 50", &[50.0], &b, 0.5, 1.0);
        let got = ks_2samp(&[3.0], &[3.0]).unwrap();
        assert_eq!((got.statistic, got.pvalue), (0.0, 1.0));
    }

    #[test]
    fn exact_near_the_size_limit() {
        // The largest sizes SciPy still treats exactly (max(n1, n2) = 10 000).
        // formula(10000, 7919, 10000, 100.0, 0.0) vs formula(9000, 104729, 10000, 100.0, 1.5)
        let a = formula(10000, 7919, 10000, 100.0, 0.0);
        let b = formula(9000, 104729, 10000, 100.0, 1.5);
        assert_matches_scipy(
            "10000 vs 9000",
            &a,
            &b,
            0.01531111111111111,
            0.21415049181876628,
        );
        // formula(10000, 7919, 10000, 100.0, 0.0) vs formula(10000, 104729, 10000, 100.0, 2.0)
        let b = formula(10000, 104729, 10000, 100.0, 2.0);
        assert_matches_scipy("10000 vs 10000", &a, &b, 0.0201, 0.03518876957795689);
    }

    #[test]
    fn asymptotic_large_samples() {
        // formula(12000, 7919, 10007, 100.0, 0.0) vs formula(15000, 104729, 10007, 100.0, shift):
        // effective size 6667; shift 0.5 goes through Pelz-Good, shift 3.0 through 2 * smirnov.
        let a = formula(12000, 7919, 10007, 100.0, 0.0);
        let b = formula(15000, 104729, 10007, 100.0, 0.5);
        assert_matches_scipy(
            "12000 vs 15000 (0.5)",
            &a,
            &b,
            0.005166666666666667,
            0.9938354313050171,
        );
        let b = formula(15000, 104729, 10007, 100.0, 3.0);
        assert_matches_scipy(
            "12000 vs 15000 (3.0)",
            &a,
            &b,
            0.030133333333333345,
            1.079425240922594e-05,
        );
    }

    #[test]
    fn asymptotic_with_small_effective_size() {
        // One sample above 10 000 values, the other small: round(n1 n2 / (n1 + n2)) is small.
        // formula(5, 7919, 1000, 10.0, 20.0) vs formula(12000, 104729, 1000, 10.0, 0.0): N = 5, D >= 0.5
        let a = formula(5, 7919, 1000, 10.0, 20.0);
        let b = formula(12000, 104729, 1000, 10.0, 0.0);
        assert_matches_scipy(
            "5 vs 12000",
            &a,
            &b,
            0.6759999999999999,
            0.00873914295500801,
        );
        // formula(60, 7919, 1000, 10.0, 10.0) vs formula(10001, 104729, 1000, 10.0, 0.0): N = 60, Pomeranz
        let a = formula(60, 7919, 1000, 10.0, 10.0);
        let b = formula(10001, 104729, 1000, 10.0, 0.0);
        assert_matches_scipy(
            "60 vs 10001",
            &a,
            &b,
            0.12340432623404327,
            0.2954559780001679,
        );
        // formula(150, 7919, 1000, 10.0, 1.0) vs formula(20000, 104729, 1000, 10.0, 0.0): N = 149, Durbin
        let a = formula(150, 7919, 1000, 10.0, 1.0);
        let b = formula(20000, 104729, 1000, 10.0, 0.0);
        assert_matches_scipy(
            "150 vs 20000",
            &a,
            &b,
            0.01733333333333331,
            0.9999999997985021,
        );
    }

    #[test]
    fn kstwo_survival_function_matches_scipy_in_every_branch() {
        // (n, x, scipy.stats.kstwo.sf(x, n)), the branch SciPy takes in the comment.
        let cases = [
            (1, 0.75, 0.5),                            // Ruben-Gambino, x <= 1/n
            (5, 0.15, 0.9988),                         // Ruben-Gambino, x <= 1/n
            (5, 0.3, 0.664),                           // Durbin matrix
            (5, 0.55, 0.059696249999999965),           // 2 * smirnov, x >= 0.5
            (5, 0.85, 0.0001518750000000001),          // Ruben-Gambino, x >= 1 - 1/n
            (40, 0.1, 0.7818109707182903),             // Durbin matrix
            (40, 0.2, 0.07048187616884194),            // Pomeranz
            (40, 0.45, 6.527887471764175e-08),         // 2 * smirnov
            (1000, 0.0125, 0.9971528020597908),        // Durbin matrix, n > 140
            (1000, 0.02, 0.8108971656895577),          // Pelz-Good
            (1000, 0.06, 0.001428597887952891),        // 2 * smirnov
            (1000, 0.7, 0.0),                          // 2 * smirnov, x >= 0.5
            (50000, 0.002, 0.9880386605338913),        // Pelz-Good
            (50000, 0.005, 0.16353363492434803),       // Pelz-Good
            (200000, 0.002, 0.39995085369038097),      // Pelz-Good, n > 100 000
            (2000000, 0.0015, 0.00024657290508461606), // smirnov's approximation, n > 1e6
        ];
        for (n, x, expected) in cases {
            let got = kstwo_sf(n, x);
            assert!(
                (got - expected).abs() < 1e-9,
                "kstwo.sf({x}, {n}) = {got}, SciPy {expected}"
            );
        }
        // Outside the support (1/(2n), 1).
        assert_eq!(kstwo_sf(10, 0.05), 1.0);
        assert_eq!(kstwo_sf(10, 1.0), 0.0);
    }

    #[test]
    fn deliberate_difference_scipy_durbin_overflow() {
        // 131 070 values each, offset by 45.5: D = 46/131070, effective size 65 535. SciPy 1.17.1
        // returns pvalue 0.0 here because its Durbin-matrix power overflows (65 535 has 16 set
        // bits and the running product is never rescaled); the true tail is 1 - (tiny), which
        // this code gets by rescaling that product too. The statistic is SciPy's exactly.
        let a: Vec<f64> = (0..131_070).map(|i| i as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 45.5).collect();
        let got = ks_2samp(&a, &b).unwrap();
        assert!((got.statistic - 0.0003509575036241275).abs() < 1e-12);
        assert_eq!(got.pvalue, 1.0);
        // A little further apart SciPy is fine again and agrees: pvalue 0.8790778023428466.
        let b: Vec<f64> = a.iter().map(|x| x + 300.5).collect();
        let got = ks_2samp(&a, &b).unwrap();
        assert!((got.statistic - 0.0022964827954529143).abs() < 1e-12);
        assert!((got.pvalue - 0.8790778023428466).abs() < 1e-6);
    }

    #[test]
    fn infinities_and_signed_zeros_are_ordinary_values() {
        let got = ks_2samp(&[f64::NEG_INFINITY, 0.0, 1.0], &[-0.0, 1.0, f64::INFINITY]).unwrap();
        assert!((got.statistic - 1.0 / 3.0).abs() < 1e-12);
        assert!((0.0..=1.0).contains(&got.pvalue));
    }

    #[test]
    fn psi_hand_computed() {
        // Reference 1..10, 2 bins: the median edge is 5.5, so 50% / 50%.
        // Current: 8 values <= 5.5 and 2 above, so 80% / 20%:
        // PSI = (0.8 - 0.5) ln(0.8/0.5) + (0.2 - 0.5) ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5.
        let reference: Vec<f64> = (1..=10).map(f64::from).collect();
        let current = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.5, 7.0, 9.0];
        let expected = 0.3 * 1.6f64.ln() + 0.3 * 2.5f64.ln();
        assert!((psi(&reference, &current, 2).unwrap() - expected).abs() < 1e-12);
        // Everything in the lower bin: the empty upper bin is floored at 1e-4.
        let current = [0.0, 1.0, 2.0];
        let expected = (1.0 - 0.5) * 2f64.ln() + (1e-4 - 0.5) * (1e-4f64 / 0.5).ln();
        assert!((psi(&reference, &current, 2).unwrap() - expected).abs() < 1e-12);
        // Deciles of 1..10 are 1.9, 2.8, .., 9.1: each reference value in its own bin. A current
        // sample of ten 1s puts 100% in the first bin and floors the other nine.
        let current = [1.0; 10];
        let expected = (1.0 - 0.1) * 10f64.ln() + 9.0 * (1e-4 - 0.1) * (1e-4f64 / 0.1).ln();
        assert!((psi(&reference, &current, 10).unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn psi_of_identical_samples_is_zero() {
        let a = formula(1000, 7919, 1000, 10.0, 0.0);
        assert_eq!(psi(&a, &a, 10).unwrap(), 0.0);
        // Same distribution, tied edges (few distinct values) and one bin: still 0.
        let ties = formula(100, 7919, 3, 1.0, 0.0);
        assert_eq!(psi(&ties, &ties, 10).unwrap(), 0.0);
        assert_eq!(psi(&a, &formula(10, 7, 1000, 1.0, 5e3), 1).unwrap(), 0.0);
        // A shifted sample drifts.
        assert!(psi(&a, &formula(1000, 7919, 1000, 10.0, 30.0), 10).unwrap() > 0.25);
    }

    #[test]
    fn column_drift_combines_both() {
        let a = formula(30, 7919, 1000, 10.0, 0.0);
        let b = formula(45, 104729, 1000, 10.0, 15.0);
        let drift = column_drift(&a, &b).unwrap();
        assert!((drift.ks_statistic - 0.17777777777777778).abs() < 1e-6);
        assert!((drift.ks_pvalue - 0.5806875573099555).abs() < 1e-6);
        assert_eq!(drift.psi, psi(&a, &b, DEFAULT_PSI_BINS).unwrap());
        let json = serde_json::to_value(&drift).unwrap();
        assert!(json.get("ks_pvalue").is_some() && json.get("psi").is_some());
    }

    #[test]
    fn invalid_input_is_an_error() {
        let err = ks_2samp(&[], &[1.0]).unwrap_err();
        assert!(err.contains("reference") && err.contains("empty"), "{err}");
        let err = ks_2samp(&[1.0], &[]).unwrap_err();
        assert!(err.contains("current") && err.contains("empty"), "{err}");
        let err = ks_2samp(&[1.0, f64::NAN], &[1.0]).unwrap_err();
        assert!(err.contains("reference") && err.contains("NaN") && err.contains("index 1"));
        let err = psi(&[1.0], &[f64::NAN], 10).unwrap_err();
        assert!(err.contains("current") && err.contains("NaN"), "{err}");
        assert!(psi(&[], &[1.0], 10).unwrap_err().contains("empty"));
        assert!(psi(&[1.0], &[1.0], 0).unwrap_err().contains("bin"));
        assert!(psi(&[1.0], &[1.0], usize::MAX)
            .unwrap_err()
            .contains("bins"));
        assert!(column_drift(&[1.0], &[]).unwrap_err().contains("empty"));
        assert!(column_drift(&[f64::NAN], &[1.0])
            .unwrap_err()
            .contains("NaN"));
    }
}
