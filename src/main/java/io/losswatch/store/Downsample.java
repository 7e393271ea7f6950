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
    return m4(run, src, lo, hi, maxPoints, 0, null);
  }

  /**
   * As above, where index 0 of {@code src} is record {@code record0} of a log whose loss extremes per block of
   * {@link Blocks#SIZE} records are {@code blocks}: a bucket's whole blocks are read from their entries instead of
   * record by record, and bucket edges fall on block edges, so a long run costs about what a short one does.
   */
  static StepBatch m4(String run, Columns src, int lo, int hi, int maxPoints, long record0, Blocks.View blocks) {
    int n = hi - lo;
    StepBatch.Builder out = new StepBatch.Builder(Math.max(1, maxPoints > 0 ? Math.min(n, maxPoints) : n));
    if (maxPoints <= 0 || n <= maxPoints) {
      for (int i = lo; i < hi; i++) copy(src, i, out);
      return out.build(run);
    }
    int buckets = Math.max(1, maxPoints / 4);
    boolean snap = blocks != null && n / buckets >= 2 * Blocks.SIZE;
    int[] keep = new int[4];
    int from = lo;
    for (int b = 0; b < buckets; b++) {
      int to = b == buckets - 1 ? hi : lo + (int) ((long) n * (b + 1) / buckets);
      if (snap && b < buckets - 1) {   // the nearest block edge
        long edge = Math.round((double) (record0 + to) / Blocks.SIZE) * Blocks.SIZE;
        to = (int) Math.min(hi, edge - record0);
      }
      if (from >= to) continue;
      int min = from;
      int max = from;
      for (int i = from; i < to; ) {
        long record = record0 + i;
        long j = record / Blocks.SIZE;
        if (blocks != null && record % Blocks.SIZE == 0 && j < blocks.count() && i + Blocks.SIZE <= to) {
          if (less(blocks.min(j), src.loss(min))) min = (int) (blocks.minRecord(j) - record0);
          if (greater(blocks.max(j), src.loss(max))) max = (int) (blocks.maxRecord(j) - record0);
          i += Blocks.SIZE;
          continue;
        }
        if (less(src.loss(i), src.loss(min))) min = i;
        if (greater(src.loss(i), src.loss(max))) max = i;
        i++;
      }
      keep[0] = from;
      keep[1] = min;
      keep[2] = max;
      keep[3] = to - 1;
      java.util.Arrays.sort(keep);
      for (int k = 0; k < 4; k++) if (k == 0 || keep[k] != keep[k - 1]) copy(src, keep[k], out);
      from = to;
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
