package io.losswatch.store;

import io.losswatch.event.StepBatch;

/**
 * M4 downsampling: cut a range of steps into buckets and keep, per bucket, its first and last points and the
 * points of minimum and maximum loss, in step order. Deterministic and spike-preserving: an outlier, a NaN
 * or an infinity always survives (NaN ranks above every number, so it is a bucket's maximum). It scans only
 * the loss column; the other columns are read for the points kept.
 */
public final class Downsample {
  private Downsample() {
  }

  /** The points of {@code src} in index range [lo, hi), every one, or at most {@code maxPoints} (≥ 4) if positive. */
  static StepBatch m4(String run, Columns src, int lo, int hi, int maxPoints) {
    int n = hi - lo;
    StepBatch.Builder out = new StepBatch.Builder(Math.max(1, maxPoints > 0 ? Math.min(n, maxPoints) : n));
    if (maxPoints <= 0 || n <= maxPoints) {
      for (int i = lo; i < hi; i++) copy(src, i, out);
      return out.build(run);
    }
    int buckets = Math.max(1, maxPoints / 4);
    int[] keep = new int[4];
    for (int b = 0; b < buckets; b++) {
      int from = lo + (int) ((long) n * b / buckets);
      int to = lo + (int) ((long) n * (b + 1) / buckets);
      if (from >= to) continue;
      int min = from;
      int max = from;
      double minLoss = src.loss(from);
      double maxLoss = minLoss;
      for (int i = from + 1; i < to; i++) {
        double l = src.loss(i);
        if (less(l, minLoss)) { min = i; minLoss = l; }
        if (greater(l, maxLoss)) { max = i; maxLoss = l; }
      }
      keep[0] = from;
      keep[1] = min;
      keep[2] = max;
      keep[3] = to - 1;
      java.util.Arrays.sort(keep);
      for (int k = 0; k < 4; k++) if (k == 0 || keep[k] != keep[k - 1]) copy(src, keep[k], out);
    }
    return out.build(run);
  }

  /** Loss order with NaN above every number, so a NaN is kept as a bucket's maximum. */
  public static boolean greater(double a, double b) {
    return Double.isNaN(a) ? !Double.isNaN(b) : a > b;
  }

  public static boolean less(double a, double b) {
    return greater(b, a);
  }

  private static void copy(Columns src, int i, StepBatch.Builder out) {
    out.add(src.step(i), src.loss(i), src.lr(i), src.gradNorm(i), src.t(i));
  }
}
