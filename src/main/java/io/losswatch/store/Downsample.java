package io.losswatch.store;

import io.losswatch.event.StepBatch;

/**
 * M4 downsampling: cut a range of steps into buckets and keep, per bucket, its first and last points and the
 * points of minimum and maximum loss, in step order. Deterministic and spike-preserving: an outlier, a NaN
 * or an infinity always survives (NaN ranks above every number, so it is a bucket's maximum).
 */
public final class Downsample {
  private Downsample() {
  }

  /** The points of {@code src} in index range [lo, hi), at most {@code maxPoints} of them (≥ 4). */
  public static StepBatch m4(StepBatch src, int lo, int hi, int maxPoints) {
    int n = hi - lo;
    StepBatch.Builder out = new StepBatch.Builder(Math.max(1, Math.min(n, maxPoints)));
    if (n <= maxPoints) {
      for (int i = lo; i < hi; i++) copy(src, i, out);
      return out.build(src.run());
    }
    int buckets = Math.max(1, maxPoints / 4);
    for (int b = 0; b < buckets; b++) {
      int from = lo + (int) ((long) n * b / buckets);
      int to = lo + (int) ((long) n * (b + 1) / buckets);
      if (from >= to) continue;
      int min = from;
      int max = from;
      for (int i = from + 1; i < to; i++) {
        if (less(src.loss()[i], src.loss()[min])) min = i;
        if (greater(src.loss()[i], src.loss()[max])) max = i;
      }
      int[] keep = sorted(from, min, max, to - 1);
      int prev = -1;
      for (int i : keep) {
        if (i != prev) copy(src, i, out);
        prev = i;
      }
    }
    return out.build(src.run());
  }

  /** Loss order with NaN above every number, so a NaN is kept as a bucket's maximum. */
  public static boolean greater(double a, double b) {
    return Double.isNaN(a) ? !Double.isNaN(b) : a > b;
  }

  public static boolean less(double a, double b) {
    return greater(b, a);
  }

  private static int[] sorted(int a, int b, int c, int d) {
    int[] k = {a, b, c, d};
    java.util.Arrays.sort(k);
    return k;
  }

  private static void copy(StepBatch src, int i, StepBatch.Builder out) {
    out.add(src.step()[i], src.loss()[i], src.lr()[i], src.gradNorm()[i], src.t()[i]);
  }
}
