package io.losswatch.history;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each metric's last, lowest and highest finite value, kept as steps are appended. A history restored from disk
 * (or cut back by a rewind) knows them only for the steps appended since; the stretch before is read once, when
 * first asked ({@link RunHistory#metricStats()}), and joined in front.
 */
final class MetricStats {
  private final Map<String, MetricPoints.Stats> appended = new LinkedHashMap<>();
  private Map<String, MetricPoints.Stats> before;   // the steps up to {@code through}: null until read
  private long through;                             // the last step before the appended ones; 0: none before

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

  void before(Map<String, MetricPoints.Stats> read) {
    before = Map.copyOf(read);
  }

  void add(String name, long[] step, double[] value, int count) {
    for (int i = 0; i < count; i++) {
      double v = value[i];
      if (!Double.isFinite(v)) continue;
      MetricPoints.Stats s = appended.get(name);
      appended.put(name, s == null ? new MetricPoints.Stats(step[i], v, v, v) : s.then(new MetricPoints.Stats(step[i], v, v, v)));
    }
  }

  /** Before and appended together, by name in the order they first came. */
  Map<String, MetricPoints.Stats> all() {
    Map<String, MetricPoints.Stats> out = new LinkedHashMap<>(before);
    for (var e : appended.entrySet()) out.merge(e.getKey(), e.getValue(), MetricPoints.Stats::then);
    return out;
  }
}
