package io.losswatch.history;

import io.losswatch.event.StepBatch;
import java.util.List;

/**
 * M4 downsampling: cut a range of steps into buckets and keep, per bucket, its first and last points and the
 * points of minimum and maximum loss, in step order. Deterministic and spike-preserving: an outlier, a NaN
 * or an infinity always survives (NaN ranks above every number, so it is a bucket's maximum). It scans only
 * the loss column; the other columns are read for the points kept.
 *
 * <p>A run's curvature is measured every so many steps, so the four points would rarely be measured ones: where the
 * columns hold a curvature, each bucket also keeps its last measured point (found walking back from its end, which
 * takes at most the measurement interval's reads), and there are a fifth fewer buckets, so the count stays within
 * the limit.
 */
public final class Downsample {
  private Downsample() {
  }

  /** The points of {@code src} in index range [lo, hi), every one, or at most {@code maxPoints} (≥ 4) if positive. */
  static StepBatch m4(String run, Columns src, int lo, int hi, int maxPoints) {
    return m4(run, src, lo, hi, maxPoints, 0, null);
  }

  /**
   * As above, where index 0 of {@code src} is record {@code record0} of a log whose blocks of {@link Blocks#SIZE}
   * records are summed up in {@code blocks}: bucket edges then fall on block edges, and a bucket of whole blocks
   * is read from their entries alone, so a long run costs about what a short one does.
   */
  static StepBatch m4(String run, Columns src, int lo, int hi, int maxPoints, long record0, Blocks.View blocks) {
    int n = hi - lo;
    if (maxPoints <= 0 || n <= maxPoints) return src.slice(run, lo, hi);
    StepBatch.Builder out = new StepBatch.Builder(maxPoints);
    boolean measured = src.curvature();
    int buckets = Math.max(1, maxPoints / (measured ? 5 : 4));
    boolean snap = blocks != null && n / buckets >= Blocks.SIZE;   // then snapped edges stay apart
    int from = lo;
    for (int b = 0; b < buckets; b++) {
      int to = b == buckets - 1 ? hi : lo + (int) ((long) n * (b + 1) / buckets);
      if (snap && b < buckets - 1) {   // the nearest block edge
        to = (int) Math.min(hi, Math.round((double) (record0 + to) / Blocks.SIZE) * Blocks.SIZE - record0);
      }
      if (from >= to) continue;
      long j0 = (record0 + from) / Blocks.SIZE;
      long j1 = (record0 + to) / Blocks.SIZE;
      int m = measured ? lastMeasured(src, from, to) : -1;
      if (snap && (record0 + from) % Blocks.SIZE == 0 && (record0 + to) % Blocks.SIZE == 0 && j1 <= blocks.count()) {
        fromBlocks(blocks, j0, j1, src, m, out);
      } else {
        scan(src, from, to, m, out);
      }
      from = to;
    }
    return out.build(run);
  }

  /** The index of the last measured point in [from, to), -1 when there is none. */
  private static int lastMeasured(Columns src, int from, int to) {
    for (int i = to - 1; i >= from; i--) if (!Double.isNaN(src.sharpness(i))) return i;
    return -1;
  }

  /** A bucket read step by step: its first, min-loss, max-loss and last points and measured point {@code m}, in step order. */
  private static void scan(Columns src, int from, int to, int m, StepBatch.Builder out) {
    int min = from;
    int max = from;
    double minLoss = src.loss(from);
    double maxLoss = minLoss;
    for (int i = from + 1; i < to; i++) {
      double l = src.loss(i);
      if (less(l, minLoss)) { min = i; minLoss = l; }
      if (greater(l, maxLoss)) { max = i; maxLoss = l; }
    }
    int[] keep = {from, min, max, to - 1, m < 0 ? from : m};
    java.util.Arrays.sort(keep);
    for (int k = 0; k < keep.length; k++) if (k == 0 || keep[k] != keep[k - 1]) copy(src, keep[k], out);
  }

  /**
   * A bucket of whole blocks [j0, j1), read from their entries: the same four points a scan would keep, with the
   * measured point {@code m} of {@code src} in its place (or its values on the point of the same step).
   */
  private static void fromBlocks(Blocks.View v, long j0, long j1, Columns src, int m, StepBatch.Builder out) {
    long minJ = j0;
    long maxJ = j0;
    for (long j = j0 + 1; j < j1; j++) {
      if (less(v.loss(j, Blocks.MIN), v.loss(minJ, Blocks.MIN))) minJ = j;
      if (greater(v.loss(j, Blocks.MAX), v.loss(maxJ, Blocks.MAX))) maxJ = j;
    }
    long[][] keep = {{j0, Blocks.FIRST}, {minJ, Blocks.MIN}, {maxJ, Blocks.MAX}, {j1 - 1, Blocks.LAST}};
    java.util.Arrays.sort(keep, java.util.Comparator.comparingLong(p -> v.step(p[0], (int) p[1])));
    long prev = Long.MIN_VALUE;
    for (long[] p : keep) {
      long j = p[0];
      int k = (int) p[1];
      if (v.step(j, k) == prev) continue;
      if (m >= 0 && src.step(m) < v.step(j, k)) {
        copy(src, m, out);
        m = -1;
      }
      prev = v.step(j, k);
      if (m >= 0 && src.step(m) == prev) {
        copy(src, m, out);
        m = -1;
        continue;
      }
      out.add(prev, v.loss(j, k), v.lr(j, k), v.gradNorm(j, k), v.t(j, k));
    }
    if (m >= 0 && src.step(m) > prev) copy(src, m, out);
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
    List<String> metrics = src.metrics();
    for (int k = 0; k < metrics.size(); k++) out.metric(metrics.get(k), src.metric(k, i));
    if (src.curvature()) out.curvature(src.sharpness(i), src.stability(i));
  }

  /**
   * One metric's points, every one, or at most {@code maxPoints} (≥ 4) if positive: per bucket its first, last,
   * lowest and highest, in step order (its values are finite: no NaN to rank).
   */
  static MetricPoints m4(MetricPoints p, int maxPoints) {
    int n = p.size();
    if (maxPoints <= 0 || n <= maxPoints) return p;
    int buckets = Math.max(1, maxPoints / 4);
    long[] s = new long[maxPoints];
    long[] t = new long[maxPoints];
    double[] v = new double[maxPoints];
    int k = 0;
    int from = 0;
    for (int b = 0; b < buckets; b++) {
      int to = b == buckets - 1 ? n : (int) ((long) n * (b + 1) / buckets);
      if (from >= to) continue;
      int min = from;
      int max = from;
      for (int i = from + 1; i < to; i++) {
        if (p.value()[i] < p.value()[min]) min = i;
        if (p.value()[i] > p.value()[max]) max = i;
      }
      int[] keep = {from, min, max, to - 1};
      java.util.Arrays.sort(keep);
      for (int j = 0; j < 4; j++) {
        if (j > 0 && keep[j] == keep[j - 1]) continue;
        s[k] = p.step()[keep[j]];
        t[k] = p.t()[keep[j]];
        v[k++] = p.value()[keep[j]];
      }
      from = to;
    }
    return new MetricPoints(java.util.Arrays.copyOf(s, k), java.util.Arrays.copyOf(t, k), java.util.Arrays.copyOf(v, k));
  }
}
