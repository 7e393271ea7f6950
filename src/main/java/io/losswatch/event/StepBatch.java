package io.losswatch.event;

/**
 * The steps one run took in one slice, columnar and immutable: the unit that travels on the event bus from a
 * run to every consumer (history, metrics, WebSocket clients). Arrays are never written after construction;
 * consumers must not write them either.
 *
 * @param cycle the run's cycle these steps belong to (a demo run starting over begins a new one at step 1)
 * @param t each step's wall-clock time, epoch milliseconds
 */
public record StepBatch(String run, int cycle, long[] step, double[] loss, double[] lr, double[] gradNorm, long[] t) {
  public int size() {
    return step.length;
  }

  public long firstStep() {
    return step[0];
  }

  public long lastStep() {
    return step[step.length - 1];
  }

  /** The same steps, labelled with another cycle. */
  public StepBatch withCycle(int c) {
    return new StepBatch(run, c, step, loss, lr, gradNorm, t);
  }

  /** Collects one slice's steps, then freezes them into a batch; reused across slices. */
  public static final class Builder {
    private long[] step;
    private double[] loss;
    private double[] lr;
    private double[] gradNorm;
    private long[] t;
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

    public int size() {
      return n;
    }

    /** The batch so far (of cycle 0), copied out; the builder starts empty again. */
    public StepBatch build(String run) {
      return build(run, 0);
    }

    /** The batch so far, copied out; the builder starts empty again. */
    public StepBatch build(String run, int cycle) {
      StepBatch b = new StepBatch(run, cycle, java.util.Arrays.copyOf(step, n), java.util.Arrays.copyOf(loss, n),
          java.util.Arrays.copyOf(lr, n), java.util.Arrays.copyOf(gradNorm, n), java.util.Arrays.copyOf(t, n));
      n = 0;
      return b;
    }

    private void grow() {
      int c = step.length * 2;
      step = java.util.Arrays.copyOf(step, c);
      loss = java.util.Arrays.copyOf(loss, c);
      lr = java.util.Arrays.copyOf(lr, c);
      gradNorm = java.util.Arrays.copyOf(gradNorm, c);
      t = java.util.Arrays.copyOf(t, c);
    }
  }
}
