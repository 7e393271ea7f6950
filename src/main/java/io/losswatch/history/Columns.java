package io.losswatch.history;

import io.losswatch.event.StepBatch;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A run of steps, read column by column: an in-memory batch, a mapped log, or both end to end. */
public interface Columns {
  /** No steps. */
  Columns EMPTY = new Columns() {
    @Override public int size() {
      return 0;
    }

    @Override public long step(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public double loss(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public double lr(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public double gradNorm(int i) {
      throw new IndexOutOfBoundsException(i);
    }

    @Override public long t(int i) {
      throw new IndexOutOfBoundsException(i);
    }
  };

  int size();

  long step(int i);

  double loss(int i);

  double lr(int i);

  double gradNorm(int i);

  long t(int i);

  /** The extra scalars' names (an external run's val_loss, acc, …); none by default. */
  default List<String> metrics() {
    return List.of();
  }

  /** Extra scalar {@code k} of {@link #metrics()} at index {@code i}. */
  default double metric(int k, int i) {
    return Double.NaN;
  }

  /** Whether the columns hold a curvature measurement anywhere (then {@link #sharpness} may be a number). */
  default boolean curvature() {
    return false;
  }

  /** The sharpness measured at index {@code i}, NaN where none was. */
  default double sharpness(int i) {
    return Double.NaN;
  }

  /** The stability at index {@code i}, NaN where not measured. */
  default double stability(int i) {
    return Double.NaN;
  }

  /**
   * Indices [{@code lo}, {@code hi}) as one batch of every step (cycle 0), read a column at a time (a replay reads
   * a million steps this way: no per-step builder).
   */
  default StepBatch slice(String run, int lo, int hi) {
    int n = hi - lo;
    long[] s = new long[n];
    long[] time = new long[n];
    double[] l = new double[n];
    double[] r = new double[n];
    double[] g = new double[n];
    for (int i = 0; i < n; i++) s[i] = step(lo + i);
    for (int i = 0; i < n; i++) l[i] = loss(lo + i);
    for (int i = 0; i < n; i++) r[i] = lr(lo + i);
    for (int i = 0; i < n; i++) g[i] = gradNorm(lo + i);
    for (int i = 0; i < n; i++) time[i] = t(lo + i);
    double[][] extra = new double[metrics().size()][n];
    for (int k = 0; k < extra.length; k++) {
      for (int i = 0; i < n; i++) extra[k][i] = metric(k, lo + i);
    }
    double[] sh = null;
    double[] st = null;
    if (curvature()) {
      sh = new double[n];
      st = new double[n];
      for (int i = 0; i < n; i++) sh[i] = sharpness(lo + i);
      for (int i = 0; i < n; i++) st[i] = stability(lo + i);
    }
    return batch(run, s, l, r, g, time, metrics(), extra, sh, st);
  }

  /** A batch of these columns; curvature columns with no step measured are left out, as {@link StepBatch} says. */
  static StepBatch batch(String run, long[] s, double[] l, double[] r, double[] g, long[] time, List<String> names,
      double[][] extra, double[] sh, double[] st) {
    Map<String, double[]> m = Map.of();
    if (!names.isEmpty()) {
      m = new LinkedHashMap<>();
      for (int k = 0; k < names.size(); k++) m.put(names.get(k), extra[k]);
      m = Collections.unmodifiableMap(m);
    }
    boolean measured = false;
    for (int i = 0; sh != null && i < sh.length && !measured; i++) measured = !Double.isNaN(sh[i]);
    return measured ? new StepBatch(run, 0, s, l, r, g, time, m, sh, st) : new StepBatch(run, 0, s, l, r, g, time, m);
  }
}
