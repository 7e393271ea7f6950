package io.losswatch.history;

/**
 * One extra scalar of a run (a validation accuracy, say) at the steps that logged it: a finite value. A script
 * that logs {@code val/acc} every 50 steps has it at one step in 50; the other steps hold NaN, which stands for
 * "not logged" (the server cannot tell a NaN a script logged from one it left out).
 */
public record MetricPoints(long[] step, long[] t, double[] value) {
  public int size() {
    return step.length;
  }

  /** What a summary says of a metric: its last value (at its last step), its lowest and highest. */
  public record Stats(long step, double last, double min, double max) {
    /** These and a later stretch's together: its last, both extremes. */
    public Stats then(Stats later) {
      return later == null ? this : new Stats(later.step, later.last, Math.min(min, later.min), Math.max(max, later.max));
    }
  }
}
