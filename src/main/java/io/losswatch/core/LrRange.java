package io.losswatch.core;

import io.losswatch.core.config.Options;
import java.util.Arrays;

/**
 * The learning-rate range test's numbers (fastai's {@code lr_find}, Lightning's {@code LearningRateFinder}): the
 * loss smoothed as they smooth it, when to stop, and the lrs they suggest. Pure; the Python client's
 * {@code losswatch._lr_range} computes the same, and a shared fixture holds both to it.
 */
public final class LrRange {
  private LrRange() {
  }

  /**
   * A RunSpec's {@code "stop_on_divergence": {"smooth": 0.98, "factor": 4}}: the run stops once its smoothed loss
   * exceeds {@code factor} × the lowest smoothed loss so far (or its loss is not finite).
   */
  public record Stop(double smooth, double factor) {
    public static Stop read(Options o) {
      double smooth = o.number("smooth", 0.98, v -> v >= 0 && v < 1, "must be in [0, 1)");
      double factor = o.number("factor", 4, v -> v > 1 && Double.isFinite(v), "must be > 1");
      o.done("stop_on_divergence (smooth, factor)");
      return new Stop(smooth, factor);
    }

    /** A fresh watch over one run's losses. */
    public Watch watch() {
      return new Watch(smooth, factor);
    }
  }

  /** Smooths losses as they come and says when the run has diverged. */
  public static final class Watch {
    private final double beta;
    private final double factor;
    private double avg;
    private double power = 1;
    private double best = Double.POSITIVE_INFINITY;

    Watch(double beta, double factor) {
      this.beta = beta;
      this.factor = factor;
    }

    /** Takes the next loss; true when the run should stop after it. */
    public boolean diverged(double loss) {
      avg = beta * avg + (1 - beta) * loss;
      power *= beta;
      double smoothed = avg / (1 - power);
      if (smoothed < best) best = smoothed;
      return !Double.isFinite(smoothed) || smoothed > factor * best;
    }
  }

  /**
   * The bias-corrected exponential average fastai and Lightning plot: avg/(1 − β^(i+1)), β^(i+1) kept as a running
   * product so the Python client's numbers are the same to the last bit.
   */
  public static double[] smooth(double[] loss, double beta) {
    double[] out = new double[loss.length];
    double avg = 0;
    double power = 1;
    for (int i = 0; i < loss.length; i++) {
      avg = beta * avg + (1 - beta) * loss[i];
      power *= beta;
      out[i] = avg / (1 - power);
    }
    return out;
  }

  /** Lightning's {@code suggestion()}: the steepest descent of the smoothed curve, skipping 10 points and the last. */
  public static double steepest(double[] lrs, double[] smoothed) {
    int skipBegin = 10;
    int end = smoothed.length - 1;
    if (end - skipBegin < 2) return Double.NaN;
    double[] l = Arrays.stream(Arrays.copyOfRange(smoothed, skipBegin, end)).filter(Double::isFinite).toArray();
    if (l.length < 2) return Double.NaN;
    int best = 0;
    double min = Double.POSITIVE_INFINITY;
    for (int k = 0; k < l.length; k++) {   // numpy's gradient: one-sided at the ends, central inside
      double g = k == 0 ? l[1] - l[0] : k == l.length - 1 ? l[k] - l[k - 1] : (l[k + 1] - l[k - 1]) / 2;
      if (g < min) {
        min = g;
        best = k;
      }
    }
    return lrs[best + skipBegin];   // as Lightning indexes it, even when it filtered points out
  }

  /** fastai's slice for its suggestions: from n/10 to 5 before the end, cut at the first NaN. */
  private static int[] fastaiSlice(double[] smoothed, int numSteps) {
    int from = numSteps / 10;
    int to = smoothed.length - 5;
    if (to <= from) return null;
    for (int i = from; i < to; i++) {
      if (Double.isNaN(smoothed[i])) {
        to = i;
        break;
      }
    }
    return to - from < 1 ? null : new int[] {from, to};
  }

  /** fastai's {@code valley}: the middle of the longest falling stretch of the smoothed curve. */
  public static double valley(double[] lrs, double[] smoothed, int numSteps) {
    int[] s = fastaiSlice(smoothed, numSteps);
    if (s == null || s[1] - s[0] < 2) return Double.NaN;
    int n = s[1] - s[0];
    int[] lds = new int[n];
    Arrays.fill(lds, 1);
    int maxStart = 0;
    int maxEnd = 0;
    for (int i = 1; i < n; i++) {
      for (int j = 0; j < i; j++) {
        if (smoothed[s[0] + i] < smoothed[s[0] + j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
        if (lds[maxEnd] < lds[i]) {
          maxEnd = i;
          maxStart = maxEnd - lds[maxEnd];
        }
      }
    }
    double sections = (maxEnd - maxStart) / 3.0;
    int idx = maxStart + (int) sections + (int) (sections / 2);
    if (idx < 0) idx += n;   // fastai's maxStart can be -1, and Python then indexes from the end
    return lrs[s[0] + idx];
  }

  /** fastai's {@code minimum}: a tenth of the lr at the smoothed curve's lowest point. */
  public static double minimumTenth(double[] lrs, double[] smoothed, int numSteps) {
    int[] s = fastaiSlice(smoothed, numSteps);
    if (s == null) return Double.NaN;
    int best = s[0];
    for (int i = s[0]; i < s[1]; i++) if (smoothed[i] < smoothed[best]) best = i;
    return lrs[best] / 10;
  }
}
