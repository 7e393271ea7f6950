package io.losswatch.history;

import io.losswatch.event.MetricSummary;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each metric's last, lowest and highest finite value, kept as steps are appended. A history restored from disk
 * (or cut back by a rewind) knows them only for the steps appended since; the stretch before is read once, when
 * first asked ({@link RunHistory#metricStats()}), and joined in front.
 */
final class MetricStats {
  private final Map<String, MetricSummary> appended = new LinkedHashMap<>();
  private Map<String, MetricSummary> before;   // the steps up to {@code through}: null until read
  private long through;                        // the last step before the appended ones; 0: none before

  /** Forgets everything: the steps up to {@code through} (0: none) are to be read when asked. */
  void reset(long through) {
    appended.clear();
    this.through = through;
    before = through == 0 ? Map.of() : null;
  }

  long through() {
    return through;
  }

  boolean known() {
    return before != null;
  }

  /** The stretch before, in the order its metrics first came. */
  void before(Map<String, MetricSummary> read) {
    before = new LinkedHashMap<>(read);
  }

  void add(String name, long[] step, double[] value, int count) {
    for (int i = 0; i < count; i++) {
      double v = value[i];
      if (!Double.isFinite(v)) continue;
      MetricSummary s = appended.get(name);
      appended.put(name, s == null ? MetricSummary.of(step[i], v) : s.then(MetricSummary.of(step[i], v)));
    }
  }

  /** Before and appended together, by name in the order they first came. */
  Map<String, MetricSummary> all() {
    Map<String, MetricSummary> out = new LinkedHashMap<>(before);
    for (var e : appended.entrySet()) out.merge(e.getKey(), e.getValue(), MetricSummary::then);
    return out;
  }
}
