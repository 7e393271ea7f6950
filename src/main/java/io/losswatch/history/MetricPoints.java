package io.losswatch.history;

import io.losswatch.event.StepBatch;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One extra scalar of a run (a validation accuracy, say) at the steps that logged it: a finite value. A script
 * that logs {@code val/acc} every 50 steps has it at one step in 50; the other steps hold NaN, which stands for
 * "not logged" (the server cannot tell a NaN a script logged from one it left out).
 */
public record MetricPoints(long[] step, long[] t, double[] value) {
  public int size() {
    return step.length;
  }

  /**
   * Several metrics' points as one batch (to travel as a {@link StepBatch} does: from the node that owns a run): the
   * steps any of them has, in order, each metric's column NaN where it has no point; every metric named, even one
   * without a point. {@link #split} takes it apart again.
   */
  public static StepBatch join(String run, int cycle, Map<String, MetricPoints> points) {
    TreeMap<Long, Long> steps = new TreeMap<>();
    for (MetricPoints p : points.values()) for (int i = 0; i < p.size(); i++) steps.put(p.step[i], p.t[i]);
    int n = steps.size();
    long[] step = new long[n];
    long[] t = new long[n];
    Map<Long, Integer> at = new HashMap<>();
    int k = 0;
    for (var e : steps.entrySet()) {
      step[k] = e.getKey();
      t[k] = e.getValue();
      at.put(e.getKey(), k++);
    }
    double[] none = new double[n];
    Arrays.fill(none, Double.NaN);
    Map<String, double[]> columns = new LinkedHashMap<>();
    for (var e : points.entrySet()) {
      double[] c = none.clone();
      MetricPoints p = e.getValue();
      for (int i = 0; i < p.size(); i++) c[at.get(p.step[i])] = p.value[i];
      columns.put(e.getKey(), c);
    }
    return new StepBatch(run, cycle, step, none, none, none, t, columns);
  }

  /** The metrics' points a {@link #join}ed batch holds: each column's finite values, by name, in order. */
  public static Map<String, MetricPoints> split(StepBatch b) {
    Map<String, MetricPoints> out = new LinkedHashMap<>();
    for (var e : b.metrics().entrySet()) {
      double[] v = e.getValue();
      int n = 0;
      for (double x : v) if (Double.isFinite(x)) n++;
      long[] step = new long[n];
      long[] t = new long[n];
      double[] value = new double[n];
      for (int i = 0, k = 0; i < v.length; i++) {
        if (!Double.isFinite(v[i])) continue;
        step[k] = b.step()[i];
        t[k] = b.t()[i];
        value[k++] = v[i];
      }
      out.put(e.getKey(), new MetricPoints(step, t, value));
    }
    return out;
  }
}
