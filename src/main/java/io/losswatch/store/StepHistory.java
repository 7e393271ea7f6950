package io.losswatch.store;

import io.losswatch.event.StepBatch;

/**
 * Every step of one run, in memory, columnar. Steps are numbered 1, 2, … without gaps, so step k sits at
 * index k − 1. One writer (the run) appends; any thread reads. Readers take a consistent view under the lock
 * and then read outside it: appends only write past the view's end, and growth and {@link #clear()} swap in
 * new arrays, so a view never changes under its reader.
 */
public final class StepHistory {
  private final String run;
  private long[] step = new long[1024];
  private double[] loss = new double[1024];
  private double[] lr = new double[1024];
  private double[] gradNorm = new double[1024];
  private long[] t = new long[1024];
  private int n;

  public StepHistory(String run) {
    this.run = run;
  }

  public synchronized void append(StepBatch b) {
    int need = n + b.size();
    if (need > step.length) {
      int c = Math.max(need, step.length * 2);
      step = java.util.Arrays.copyOf(step, c);
      loss = java.util.Arrays.copyOf(loss, c);
      lr = java.util.Arrays.copyOf(lr, c);
      gradNorm = java.util.Arrays.copyOf(gradNorm, c);
      t = java.util.Arrays.copyOf(t, c);
    }
    System.arraycopy(b.step(), 0, step, n, b.size());
    System.arraycopy(b.loss(), 0, loss, n, b.size());
    System.arraycopy(b.lr(), 0, lr, n, b.size());
    System.arraycopy(b.gradNorm(), 0, gradNorm, n, b.size());
    System.arraycopy(b.t(), 0, t, n, b.size());
    n = need;
  }

  /** Forgets everything (a demo run starting over). */
  public synchronized void clear() {
    step = new long[1024];
    loss = new double[1024];
    lr = new double[1024];
    gradNorm = new double[1024];
    t = new long[1024];
    n = 0;
  }

  /** The number of the last step kept, 0 when empty. */
  public synchronized long lastStep() {
    return n == 0 ? 0 : step[n - 1];
  }

  /**
   * Steps {@code from}..{@code to} (inclusive, clipped to what exists), every one, or M4-downsampled to at
   * most {@code maxPoints} when that is positive.
   */
  public StepBatch read(long from, long to, int maxPoints) {
    StepBatch view;
    synchronized (this) {
      view = new StepBatch(run, step, loss, lr, gradNorm, t);
      to = Math.min(to, n);
    }
    int lo = (int) Math.max(0, from - 1);
    int hi = (int) Math.max(lo, to);
    if (maxPoints > 0) return Downsample.m4(view, lo, hi, maxPoints);
    return new StepBatch(run, java.util.Arrays.copyOfRange(view.step(), lo, hi),
        java.util.Arrays.copyOfRange(view.loss(), lo, hi), java.util.Arrays.copyOfRange(view.lr(), lo, hi),
        java.util.Arrays.copyOfRange(view.gradNorm(), lo, hi), java.util.Arrays.copyOfRange(view.t(), lo, hi));
  }
}
