package io.losswatch.history;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.event.MetricSummary;
import io.losswatch.event.StepBatch;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A metric logged now and then: its points read whole or thinned, its last/lowest/highest kept across a restart. */
class MetricPointsTest {
  /** Steps from..to; val/acc at every 50th step (NaN elsewhere: not logged), rising to 0.9 with a dip at 5000. */
  static StepBatch steps(long from, long to) {
    StepBatch.Builder b = new StepBatch.Builder(16);
    for (long s = from; s <= to; s++) {
      b.add(s, 1.0 / s, 0.1, Double.NaN, 1_700_000_000_000L + s);
      b.metric("val/acc", s % 50 != 0 ? Double.NaN : s == 5000 ? 0.01 : 0.9 * s / (s + 1000.0));
    }
    return b.build("r");
  }

  @Test
  void aMetricIsItsLoggedStepsWholeOrThinnedKeepingItsExtremes(@TempDir Path dir) throws Exception {
    StepLog log = StepLog.open(dir);
    RunHistory h = new RunHistory("r", log);
    for (long s = 1; s <= 100_000; s += 10_000) {
      StepBatch b = steps(s, s + 9_999);
      h.append(b);
      log.append(b);
      h.persisted(b.lastStep());
    }
    MetricPoints all = h.metricPoints(1, Long.MAX_VALUE, 0).get("val/acc");
    assertEquals(2000, all.size(), "every 50th of 100,000 steps, from disk and memory");
    assertEquals(50, all.step()[0]);
    assertEquals(1_700_000_000_050L, all.t()[0]);
    assertEquals(0.9 * 50 / 1050.0, all.value()[0]);
    MetricPoints from = h.metricPoints(99_001, Long.MAX_VALUE, 0).get("val/acc");
    assertEquals(20, from.size(), "from a step on: a page reading only what is new");
    MetricPoints thin = h.metricPoints(1, Long.MAX_VALUE, 400).get("val/acc");
    assertTrue(thin.size() <= 400 && thin.size() >= 200, "thinned: " + thin.size());
    boolean dip = false;
    for (int i = 0; i < thin.size(); i++) {
      dip |= thin.step()[i] == 5000 && thin.value()[i] == 0.01;
      if (i > 0) assertTrue(thin.step()[i] > thin.step()[i - 1], "in step order");
    }
    assertTrue(dip, "the dip survives thinning");
    assertEquals(100_000, thin.step()[thin.size() - 1], "and the last");

    MetricSummary st = h.metricStats().get("val/acc");
    assertEquals(new MetricSummary(100_000, 0.9 * 100_000 / 101_000.0, 0.01, 0.9 * 100_000 / 101_000.0), st);
    log.closeWriter();

    // restarted: what came before is read from disk once, what comes after joins it
    StepLog again = StepLog.open(dir);
    RunHistory r = new RunHistory("r", again);
    StepBatch more = steps(100_001, 100_100);
    r.append(more);
    again.append(more);
    Map<String, MetricSummary> after = r.metricStats();
    assertEquals(new MetricSummary(100_100, 0.9 * 100_100 / 101_100.0, 0.01, 0.9 * 100_100 / 101_100.0), after.get("val/acc"));
    again.closeWriter();
  }

  @Test
  void aRewindForgetsTheExtremesItUndid() {
    RunHistory h = new RunHistory("r", null);
    h.append(steps(1, 200));
    StepBatch.Builder b = new StepBatch.Builder(1);
    b.add(201, 1, 0.1, 1, 1);
    b.metric("val/acc", 99);
    h.append(b.build("r"));
    assertEquals(99, h.metricStats().get("val/acc").max());
    h.rewind(200, 1);
    assertEquals(0.9 * 200 / 1200.0, h.metricStats().get("val/acc").max());
    assertArrayEquals(new long[] {50, 100, 150, 200}, h.metricPoints(1, 1000, 0).get("val/acc").step());
  }

  @Test
  void metricsJoinedIntoOneBatchSplitBackAsTheyWereEvenWithoutAPoint() {
    MetricPoints acc = new MetricPoints(new long[] {50, 100}, new long[] {5, 10}, new double[] {0.5, 0.6});
    MetricPoints loss = new MetricPoints(new long[] {100, 150}, new long[] {10, 15}, new double[] {2.0, 1.5});
    MetricPoints none = new MetricPoints(new long[0], new long[0], new double[0]);
    Map<String, MetricPoints> in = new java.util.LinkedHashMap<>();
    in.put("val/acc", acc);
    in.put("val_loss", loss);
    in.put("never", none);
    StepBatch b = MetricPoints.join("r", 2, in);
    assertArrayEquals(new long[] {50, 100, 150}, b.step(), "the steps any metric has, once each, in order");
    Map<String, MetricPoints> out = MetricPoints.split(b);
    assertEquals(java.util.List.copyOf(in.keySet()), java.util.List.copyOf(out.keySet()));
    for (var e : in.entrySet()) {
      assertArrayEquals(e.getValue().step(), out.get(e.getKey()).step(), e.getKey());
      assertArrayEquals(e.getValue().t(), out.get(e.getKey()).t(), e.getKey());
      assertArrayEquals(e.getValue().value(), out.get(e.getKey()).value(), e.getKey());
    }
  }
}
