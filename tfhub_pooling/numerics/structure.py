"""The residual-structure test: a pooler change too small for the worst-case bound.

The bound of bounds.py is a proof, and loose: it lets the float32 sum of H products
err by gamma_{H+1} * sum_i |cls_i W_ij|, while the real error is a thousand times
smaller. A changed element W[i, j] + delta leaves a residual that rounding never
leaves, though: to first order

    pooled_bj - rebuilt_bj = (1 - rebuilt_bj^2) * cls_bi * delta        (b: the text)

so column j's residual follows cls[:, i] from text to text (and a changed bias b_j
follows the constant 1). Rounding residuals do not: they change sign and size with
every text, with no linear relation to any one cls column.

For every pair (i, j) the test regresses column j's residual on that predicted shape,
through the origin, each element weighted by the rounding noise expected there:

    q_b = s_bj cls_bi,   e_b = (pooled_bj - rebuilt_bj) / sigma_bj,   s_bj = (1 - rebuilt_bj^2) / sigma_bj

    sigma_bj^2 = (SUM_NOISE u (1 - rebuilt_bj^2) ||cls_b * W_:j||)^2 + (TANH_NOISE ulp(rebuilt_bj))^2

The first term is the sum's rounding carried through tanh: it grows like the root of the
sum of squares of the H products (Higham & Mary 2019), not like the worst case's sum of
their sizes. The second is the float32 tanh's own rounding, which is all that is left
where tanh saturates. Both constants were measured (module constants below); they set
the weights, not the calibration, which is scale-free.

Column by column, what varies smoothly with z_j alone is partialled out first: s, s z and
1 / sigma (the float32 tanh's own error is a function of z; so are a changed bias and a
rescaled column, which this test leaves to the bound, and the part of a changed element's
residual that follows cls[:, i]'s mean rather than its variation). With r the correlation
that remains, t = r sqrt(df) / sqrt(1 - r^2), df = N - 1 - 3 (N texts).

Dynamic-range int8 (bounds.INT8_DYNAMIC): the kernel rounds cls_b to steps of
s_b = max_i |cls_bi| / 127 before the (exact) integer sum, an error d_bi spread evenly over
[-s_b/2, s_b/2]: a sawtooth of cls_bi, with no linear relation to it across texts. Its
sum through column j has standard deviation s_b / sqrt(12) ||W_:j||, which joins sigma_bj:

    sigma_bj^2 += ((1 - rebuilt_bj^2) s_b / sqrt(12) ||W_:j||)^2

The t statistic is scale-free: the weights need the noise's shape, not its size. Under the
null (residual independent of cls[:, i], mean zero, about normal after the weighting) it
follows Student's t with df degrees of freedom. Where rounding itself leaves a residual
linear in cls, every t of a column is wider than that; each column's t values are divided
by their empirical null scale (median |t| / 0.674, at least 1), which one changed element,
an outlier among H, does not move. So the test sees sparse changes (a few elements a
column), not a whole kernel off by a little everywhere. The family-wise false-alarm
probability over the tested pairs is at most their number times the smallest two-sided p
(Bonferroni); the test says the pooler differs when that is below ALPHA.

A second look: where the first (TEXTS texts) finds a structure that is suspicious but not
decisive (false-alarm probability below FOLLOW_UP_BELOW), the study adds generated texts up
to FOLLOW_UP_TEXTS and tests again. The power grows with the texts (a change 4 times the
noise is caught at a thousand texts, not at 64), while clean runs, whose false-alarm
probability at 64 texts is mostly near 1, seldom pay for it (3 of 18 in
docs/false-alarms.md did, each ending at 1). Each look's probability is multiplied by
the number of looks (Bonferroni over looks too), so two looks keep the family-wise
false-alarm rate below ALPHA.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfhub_pooling.numerics import bounds

# The family-wise false-alarm probability below which a residual structure decides
# the verdict. Clean runs of every format stay far above it (docs/false-alarms.md).
ALPHA = 1e-6
# The texts the test runs on, the study's own and generated ones: enough that a
# change of 1e-5 in one element stands out on bert-base and bert-large shapes.
TEXTS = 64
# The second look: below this false-alarm probability, and not below ALPHA, the first look
# is suspicious; the study then tests again on this many texts.
FOLLOW_UP_BELOW = 0.1
FOLLOW_UP_TEXTS = 1024
# Words in each generated text: short texts keep the extra forward pass cheap.
WORDS = 12
# Regressors partialled out of every column: the slope s = (1 - rebuilt^2) / sigma, s z and
# 1 / sigma, so that a residual varying smoothly with z_j is not taken for cls_i's shape.
NUISANCES = 3
# The rounding noise's two scales (module docstring), measured as the residual's standard
# deviation on clean MiniLM, bert-base and bert-large-shaped modules: 4.7 to 6.3 times
# u ||cls * W_:j|| tanh', and 0.38 float32 ulps of the output where tanh saturates.
SUM_NOISE = 5.0
TANH_NOISE = 0.4
# Partialling out subtracts nearly equal sums where the nuisances explain a column (or a
# cls column) almost whole; what is left below this share of the sum is cancellation, not data.
UNTESTABLE = 1e-6
MIN_DF = 8
RCOND = 1e-9
R_MAX = 1.0 - 1e-12
# The median of |N(0, 1)|.
NORMAL_MEDIAN_ABS = 0.6744897501960817


@dataclasses.dataclass
class Structure:
    """The strongest residual structure found, and how likely rounding makes one."""

    texts: int              # N, the texts the test ran on
    row: int                # i of the strongest pair
    col: int                # j
    t: float                # its t statistic
    false_alarm: float      # family-wise probability of a |t| this large from rounding
    delta: float            # the change of W[row, col] the residual implies
    tested: int             # pairs (i, j) tested; the Bonferroni factor
    null_scale: float       # the column's empirical null: its t values were divided by this
    looks: int = 1          # the looks taken (a second one where the first was suspicious)

    @property
    def differs(self) -> bool:
        return self.false_alarm < ALPHA

    @property
    def suspicious(self) -> bool:
        """Not decisive, but strong enough that more texts are worth running."""
        return not self.differs and self.false_alarm < FOLLOW_UP_BELOW

    def as_dict(self) -> dict:
        return {"texts": self.texts, "row": self.row, "col": self.col, "t": self.t,
                "false_alarm_probability": self.false_alarm, "delta": self.delta,
                "tested_pairs": self.tested,
                "null_scale": self.null_scale, "alpha": ALPHA, "looks": self.looks,
                "differs": self.differs}


class ResidualSums:
    """The test's sums over texts, added a batch at a time (corpus mode streams)."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, arithmetic: str | None = None):
        self.stored = kernel, bias
        self.kernel, self.bias = kernel, bias
        # What the pooler ran in: the module's arithmetic where it says (INT8_DYNAMIC), else
        # read off the first batch's dtypes.
        self.precision: str | None = arithmetic
        h = kernel.shape[0]
        self.n = 0
        self.qe = np.zeros((h, h))           # sum_b q_bij e_bj
        self.qq = np.zeros((h, h))           # sum_b q_bij^2
        self.qa = np.zeros((NUISANCES, h, h))        # sum_b q_bij a_kbj, the nuisances a = (s, s z, 1 / sigma)
        self.ae = np.zeros((NUISANCES, h))           # sum_b a_kbj e_bj
        self.aa = np.zeros((NUISANCES, NUISANCES, h))        # sum_b a_kbj a_lbj
        self.ee = np.zeros(h)                # sum_b e_bj^2

    def add(self, pooled: np.ndarray, cls: np.ndarray) -> None:
        """pooled, cls [B, H]: one batch of texts."""
        if self.precision is None:      # W and b as the module used them: rounded to its precision
            self.precision = bounds.precision_of(pooled, cls)
            self.kernel, self.bias = bounds.as_computed(*self.stored, self.precision)
        x = cls.astype(np.float64)                                             # [B, H]
        z = x @ self.kernel + self.bias                                        # [B, H]
        rebuilt = np.tanh(z)
        slope = 1.0 - rebuilt ** 2
        sigma = rounding_noise(x, self.kernel, rebuilt, self.precision)        # [B, H]
        e = (pooled.astype(np.float64) - rebuilt) / sigma                      # [B, H]
        s = slope / sigma                                                      # [B, H]
        a = np.stack([s, s * z, 1.0 / sigma])                                  # [k, B, H]
        self.qe += x.T @ (s * e)
        self.qq += (x ** 2).T @ s ** 2
        for k in range(NUISANCES):          # as matmuls: an einsum over [B, H, H] runs 10x slower
            self.qa[k] += x.T @ (s * a[k])
        self.ae += np.einsum("kbj,bj->kj", a, e)
        self.aa += np.einsum("kbj,lbj->klj", a, a)
        self.ee += (e ** 2).sum(axis=0)
        self.n += cls.shape[0]

    def result(self, looks: int = 1) -> Structure:
        """The strongest pair (i, j) so far, with its statistic (module docstring).

        looks: how many times the test has been taken on these growing sums, this one
        included; the false-alarm probability is multiplied by it."""
        from scipy.special import (
            stdtr,  # only the test needs scipy; importing it costs 0.1 s
        )

        n, h = self.n, self.kernel.shape[0]
        df = n - 1 - NUISANCES
        # Partial out the nuisances column by column: m = aa^-1 [k, k, H]. Where z_j barely
        # varies the three are nearly collinear; scaled to unit diagonal, directions below
        # RCOND are dropped rather than inverted into noise.
        aa = np.moveaxis(self.aa, 2, 0)                                         # [H, k, k]
        d = np.sqrt(np.maximum(np.einsum("jkk->jk", aa), np.finfo(float).tiny))  # [H, k]
        scale = d[:, :, None] * d[:, None, :]
        m = (np.linalg.pinv(aa / scale, rcond=RCOND, hermitian=True) / scale).transpose(1, 2, 0)
        m_ae = np.einsum("klj,lj->kj", m, self.ae)                              # [k, H]
        ee = self.ee - np.einsum("kj,kj->j", self.ae, m_ae)                     # [H]
        qe = self.qe - np.einsum("kij,kj->ij", self.qa, m_ae)                   # [H, H]
        qq = self.qq - np.einsum("kij,klj,lij->ij", self.qa, m, self.qa)        # [H, H]
        # Untestable: what the nuisances explain almost whole, and all of it with too few texts.
        testable = (qq > UNTESTABLE * self.qq) & (ee > UNTESTABLE * self.ee) & (df >= MIN_DF)
        with np.errstate(divide="ignore", invalid="ignore"):
            # |r| = 1 (a residual that is all signal) would give an infinite t; JSON has no inf.
            r = np.clip(np.where(testable, qe / np.sqrt(qq * ee), 0.0), -R_MAX, R_MAX)
            t = r * np.sqrt(max(df, 1)) / np.sqrt(1.0 - r ** 2)
        if not testable.any():
            return Structure(n, 0, 0, 0.0, 1.0, 0.0, 0, 1.0, looks)
        # The empirical null, column by column (Efron 2004): where rounding itself leaves a
        # residual linear in cls (random deep BERTs, whose cls vectors barely differ), every t
        # of the column is wider than Student's; its median |t| measures by how much. One
        # changed element is one outlier among H and leaves the median where it was.
        # A column with nothing testable (saturated everywhere) has no median: 0, scale 1.
        median = np.ma.median(np.ma.masked_array(np.abs(t), ~testable), axis=0)         # [H]
        scale = np.maximum(1.0, np.ma.filled(median, 0.0) / NORMAL_MEDIAN_ABS)           # [H]
        t = t / scale
        rows = np.argmax(np.where(testable, np.abs(t), -1.0), axis=0)                    # [H]
        cols = np.arange(h)
        p = 2.0 * stdtr(max(df, 1), -np.abs(t[rows, cols]))                      # [H]
        p = np.where(testable[rows, cols], p, 1.0)
        j = int(np.argmin(p))
        i = int(rows[j])
        tested = int(testable.sum())
        return Structure(n, i, j, float(t[i, j]), min(1.0, looks * tested * float(p[j])),
                         float(qe[i, j] / qq[i, j]), tested, float(scale[j]), looks)


def rounding_noise(cls: np.ndarray, kernel: np.ndarray, rebuilt: np.ndarray,
                   precision: str = "float32") -> np.ndarray:
    """cls [B, H] float64, kernel [H, H], rebuilt [B, H] -> the noise scale sigma [B, H]."""
    u = bounds.UNIT_ROUNDOFF[precision]
    spread = np.sqrt((cls ** 2) @ (kernel ** 2))                           # ||cls_b * W_:j||
    # The spacing of the output's floats at |tanh|: 2u times its power of two.
    ulp = 2.0 * u * np.exp2(np.floor(np.log2(np.maximum(np.abs(rebuilt), np.finfo(np.float32).tiny))))
    noise = np.hypot(SUM_NOISE * u * (1.0 - rebuilt ** 2) * spread, TANH_NOISE * ulp)
    if precision == bounds.INT8_DYNAMIC:       # cls rounded to s_b / 127 steps (module docstring)
        step = np.abs(cls).max(axis=1, keepdims=True) / bounds.INT8_LEVELS           # [B, 1]
        columns = np.sqrt((kernel ** 2).sum(axis=0))                                # ||W_:j|| [H]
        noise = np.hypot(noise, (1.0 - rebuilt ** 2) * step / np.sqrt(12.0) * columns)
    return np.maximum(noise, np.finfo(np.float64).tiny)


def residual_structure(pooled: np.ndarray, cls: np.ndarray, kernel: np.ndarray,
                       bias: np.ndarray, arithmetic: str | None = None) -> Structure:
    """pooled, cls [N, H]; kernel [H, H]; bias [H]: the test on N texts at once."""
    sums = ResidualSums(kernel, bias, arithmetic)
    sums.add(pooled, cls)
    return sums.result()
