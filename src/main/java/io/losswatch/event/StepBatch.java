package io.losswatch.event;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The steps one run took in one slice (or one script sent in one append), columnar and immutable: the unit that
 * travels on the event bus from a run to every consumer (history, metrics, WebSocket clients). Arrays are never
 * written after construction; consumers must not write them either.
 *
 * @param cycle the run's cycle these steps belong to (a demo run starting over begins a new one at step 1)
 * @param t each step's wall-clock time, epoch milliseconds
 * @param metrics an external run's extra scalars by name (val_loss, acc, …), each a column like loss; NaN where
 *     a step has none; empty for built-in runs
 * @param sharpness the curvature measured at each step (the Hessian's top eigenvalue, of P⁻¹H when preconditioned),
 *     NaN where it was not measured; null when no step of the batch was (then {@code stability} is null too)
 * @param stability lr × sharpness ÷ the optimizer's threshold, NaN where not measured (or the threshold is unknown)
 */
public record StepBatch(String run, int cycle, long[] step, double[] loss, double[] lr, double[] gradNorm, long[] t,
    Map<String, double[]> metrics, double[] sharpness, double[] stability) implements RunEvent {

  public StepBatch(String run, int cycle, long[] step, double[] loss, double[] lr, double[] gradNorm, long[] t) {
    this(run, cycle, step, loss, lr, gradNorm, t, Map.of());
  }

  public StepBatch(String run, int cycle, long[] step, double[] loss, double[] lr, double[] gradNorm, long[] t,
      Map<String, double[]> metrics) {
    this(run, cycle, step, loss, lr, gradNorm, t, metrics, null, null);
  }

  /** Whether the batch has the curvature columns (some step of it was measured). */
  public boolean hasCurvature() {
    return sharpness != null;
  }

  /** The index of the last step whose sharpness was measured, -1 when none was. */
  public int lastMeasured() {
    if (sharpness == null) return -1;
    for (int i = sharpness.length - 1; i >= 0; i--) if (!Double.isNaN(sharpness[i])) return i;
    return -1;
  }

  @Override
  public void tell(Listener to) {
    to.batch(this);
  }

  public int size() {
    return step.length;
  }

  public long firstStep() {
    return step[0];
  }

  public long lastStep() {
    return step[step.length - 1];
  }

  /** The steps from index {@code i} on (this batch itself when {@code i} is 0). */
  public StepBatch from(int i) {
    return slice(i, size());
  }

  /** The steps at indices {@code i} to {@code j} (exclusive), every column of them (this batch itself when all). */
  public StepBatch slice(int i, int j) {
    if (i == 0 && j == size()) return this;
    Map<String, double[]> m = new LinkedHashMap<>();
    metrics.forEach((name, column) -> m.put(name, Arrays.copyOfRange(column, i, j)));
    return new StepBatch(run, cycle, Arrays.copyOfRange(step, i, j), Arrays.copyOfRange(loss, i, j),
        Arrays.copyOfRange(lr, i, j), Arrays.copyOfRange(gradNorm, i, j), Arrays.copyOfRange(t, i, j), m,
        sharpness == null ? null : Arrays.copyOfRange(sharpness, i, j),
        stability == null ? null : Arrays.copyOfRange(stability, i, j));
  }

  /** The same steps, labelled with another cycle. */
  public StepBatch withCycle(int c) {
    return new StepBatch(run, c, step, loss, lr, gradNorm, t, metrics, sharpness, stability);
  }

  /** Collects steps, then freezes them into a batch; reused across slices. */
  public static final class Builder {
    private long[] step;
    private double[] loss;
    private double[] lr;
    private double[] gradNorm;
    private long[] t;
    private Map<String, double[]> metrics;   // null until a step has one
    private double[] sharpness;              // null until a step is measured; then stability too
    private double[] stability;
    private int n;

    public Builder(int capacity) {
      step = new long[capacity];
      loss = new double[capacity];
      lr = new double[capacity];
      gradNorm = new double[capacity];
      t = new long[capacity];
    }

    public void add(long s, double l, double r, double g, long time) {
      if (n == step.length) grow();
      step[n] = s;
      loss[n] = l;
      lr[n] = r;
      gradNorm[n] = g;
      t[n] = time;
      n++;
    }

    /** Adds step {@code i} of {@code b} whole: its every column, its metrics and its curvature with it. */
    public void add(StepBatch b, int i) {
      add(b.step[i], b.loss[i], b.lr[i], b.gradNorm[i], b.t[i]);
      for (var m : b.metrics.entrySet()) metric(m.getKey(), m.getValue()[i]);
      if (b.hasCurvature()) curvature(b.sharpness[i], b.stability[i]);
    }

    /** Sets extra scalar {@code name} of the step added last (earlier steps without it read NaN). */
    public void metric(String name, double value) {
      if (metrics == null) metrics = new LinkedHashMap<>();
      double[] column = metrics.computeIfAbsent(name, k -> {
        double[] c = new double[step.length];
        Arrays.fill(c, Double.NaN);
        return c;
      });
      column[n - 1] = value;
    }

    /** Sets the curvature of the step added last (NaN: not measured; earlier steps without it read NaN). */
    public void curvature(double s, double st) {
      if (sharpness == null) {
        if (Double.isNaN(s) && Double.isNaN(st)) return;
        sharpness = nans(step.length);
        stability = nans(step.length);
      }
      sharpness[n - 1] = s;
      stability[n - 1] = st;
    }

    private static double[] nans(int length) {
      double[] c = new double[length];
      Arrays.fill(c, Double.NaN);
      return c;
    }

    public int size() {
      return n;
    }

    /** The batch so far (of cycle 0), copied out; the builder starts empty again. */
    public StepBatch build(String run) {
      return build(run, 0);
    }

    /** The batch so far, copied out; the builder starts empty again. */
    public StepBatch build(String run, int cycle) {
      Map<String, double[]> m = Map.of();
      if (metrics != null) {
        m = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> e : metrics.entrySet()) m.put(e.getKey(), Arrays.copyOf(e.getValue(), n));
        m = java.util.Collections.unmodifiableMap(m);
      }
      StepBatch b = new StepBatch(run, cycle, Arrays.copyOf(step, n), Arrays.copyOf(loss, n), Arrays.copyOf(lr, n),
          Arrays.copyOf(gradNorm, n), Arrays.copyOf(t, n), m,
          sharpness == null ? null : Arrays.copyOf(sharpness, n), stability == null ? null : Arrays.copyOf(stability, n));
      n = 0;
      metrics = null;
      sharpness = stability = null;
      return b;
    }

    private void grow() {
      int c = step.length * 2;
      step = Arrays.copyOf(step, c);
      loss = Arrays.copyOf(loss, c);
      lr = Arrays.copyOf(lr, c);
      gradNorm = Arrays.copyOf(gradNorm, c);
      t = Arrays.copyOf(t, c);
      if (sharpness != null) {
        sharpness = Arrays.copyOf(sharpness, c);
        stability = Arrays.copyOf(stability, c);
        Arrays.fill(sharpness, step.length / 2, c, Double.NaN);
        Arrays.fill(stability, step.length / 2, c, Double.NaN);
      }
      if (metrics != null) {
        for (Map.Entry<String, double[]> e : metrics.entrySet()) {
          double[] grown = Arrays.copyOf(e.getValue(), c);
          Arrays.fill(grown, step.length / 2, c, Double.NaN);
          e.setValue(grown);
        }
      }
    }
  }
}
