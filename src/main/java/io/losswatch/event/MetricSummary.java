package io.losswatch.event;

/**
 * What a run's summary says of one of its metrics: its last finite value (at its last step that had one), its
 * lowest and its highest.
 */
public record MetricSummary(long step, double last, double min, double max) {
  /** One step's finite value. */
  public static MetricSummary of(long step, double value) {
    return new MetricSummary(step, value, value, value);
  }

  /** These and a later stretch's together: its last, both extremes. */
  public MetricSummary then(MetricSummary later) {
    return later == null ? this : new MetricSummary(later.step, later.last, Math.min(min, later.min), Math.max(max, later.max));
  }
}
