package io.losswatch.event;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.Json;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.state.State;
import io.vertx.core.buffer.Buffer;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WireCodecTest {
  /** A NaN with a payload: only raw bits tell it from the canonical one. */
  private static final double ODD_NAN = Double.longBitsToDouble(0x7ff8_0000_dead_beefL);
  private static final RunSpec SPEC = RunSpec.parse(
      "{\"name\":\"rb \\u00e9\",\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.01},\"steps\":50}");

  @Test
  void stepBatchKeepsEveryBit() {
    roundTrip(batch("r1", 7, 3, false));
    roundTrip(batch("r1", 0, 1000, true));
    roundTrip(batch("r1", 0, 0, false));
    roundTrip(new Bucket(batch("r1", 4, 3, true)));   // a live bucket: its points as a batch
  }

  @Test
  void summaryKeepsNullsAndLists() {
    RunSummary fresh = RunSummary.created("r0", SPEC, 1);
    assertNull(roundTrip(fresh).reason());
    assertEquals(List.of(), roundTrip(fresh).lrChanges());
    roundTrip(summary());
    roundTrip(new RunList(List.of()));
    roundTrip(new RunList(List.of(new ClusterSummary(fresh, Map.of()), new ClusterSummary(summary(), metrics()),
        new ClusterSummary(summary(), null))));
  }

  /**
   * A summary told to the other nodes: with its metrics' stats in the owner's order, every bit of them; with none
   * yet; and unknown (null: the ones told before stand), which is not the same as none.
   */
  @Test
  void clusterSummaryKeepsItsMetricsStatsInOrder() {
    ClusterSummary told = roundTrip(new ClusterSummary(summary(), metrics()));
    assertEquals(List.of("val/loss", "acc \u03b1", "a"), new ArrayList<>(told.metrics().keySet()));
    assertEquals(Map.of(), roundTrip(new ClusterSummary(summary(), Map.of())).metrics());
    assertNull(roundTrip(new ClusterSummary(RunSummary.created("r0", SPEC, 1), null)).metrics());
    assertEquals("losswatch-ClusterSummary-v1", Codecs.wire(ClusterSummary.class).name());
    assertEquals("losswatch-RunList-v3", Codecs.wire(RunList.class).name());
  }

  /** Three metrics' stats, not in name order, extremes and an odd NaN among them. */
  static Map<String, MetricSummary> metrics() {
    Map<String, MetricSummary> m = new LinkedHashMap<>();
    m.put("val/loss", new MetricSummary(1200, 0.25, 0.125, 7.5));
    m.put("acc \u03b1", new MetricSummary(1150, -0.0, -Double.MAX_VALUE, Double.MIN_VALUE));
    m.put("a", MetricSummary.of(Long.MAX_VALUE, ODD_NAN));
    return m;
  }

  @Test
  void summaryOfAnExternalRun() {
    RunSpec external = RunSpec.parse("{\"source\":\"external\",\"name\":\"gpt\",\"config\":{\"layers\":[12,{\"d\":null}]},"
        + "\"optimizer\":{\"type\":\"adamw\",\"lr\":3e-4}}");
    assertEquals("adamw", roundTrip(RunSummary.created("x", external, 2)).spec().optimizerType());
  }

  @Test
  void requestsAndReplies() {
    for (RunCommand.Kind k : RunCommand.Kind.values()) roundTrip(RunCommand.of(k));
    roundTrip(RunCommand.setLr(-0.0));
    roundTrip(RunCommand.branch(42));
    roundTrip(new Alert("r", "n", Alert.Kind.REWOUND, 9, "why", ODD_NAN, 1L << 40));
    roundTrip(new Alert("r", null, Alert.Kind.STORAGE, 9, null, Double.POSITIVE_INFINITY, 0));
    roundTrip(new Append(batch("ext", 0, 5, true), List.of(new Append.Ack("c1", 3), new Append.Ack("c2", 4))));
    roundTrip(new Append(batch("ext", 0, 0, false), List.of()));
    roundTrip(new Append(batch("ext", 0, 9, true), List.of(), 2, new Append.Curvature(true, 38)));
    roundTrip(new Append(batch("ext", 0, 9, true), List.of(), -1, new Append.Curvature(false, Double.NaN)));
    roundTrip(new Appended(5, 1, 2, 9, List.of(Appended.Command.lr("c1", 0.1, Double.NaN),
        Appended.Command.plain("c2", "pause"), Appended.Command.stop("c3", "diverged"),
        Appended.Command.rewind("c4", 120, 0.1), Appended.Command.probe("c5", new double[] {10, 1, 0.1, 0.01}, 200))));
    roundTrip(new Appended(0, 0, 0, 0, List.of()));
    roundTrip(new Finish(RunState.FAILED, "oom"));
    roundTrip(new Finish(RunState.FINISHED, null));
    roundTrip(new HistoryRead("r1", Long.MIN_VALUE, Long.MAX_VALUE, 2000, Integer.MAX_VALUE, 3));
    roundTrip(HistoryRead.head("r1", 7, 1000));
    roundTrip(new Follow("r1", "node-\u00e9", true, 0, Long.MAX_VALUE));
    roundTrip(new Follow("r1", "n", false, 20.5, 1));
  }


  @Test
  void forkCarriesATrainersExactState() {
    Trainer trainer = new Trainer(SPEC);
    for (int i = 0; i < 20; i++) trainer.step();
    Fork f = roundTrip(new Fork(trainer.state(), 20, 25, List.of(new LrChange(21, 0.01, 0.001, "set"))));
    Trainer resumed = new Trainer(SPEC, f.state());
    trainer.step();
    resumed.step();
    assertEquals(Double.doubleToRawLongBits(trainer.loss()), Double.doubleToRawLongBits(resumed.loss()));
  }

  @Test
  void theSameInstanceWithinANode() {
    StepBatch b = batch("r", 0, 3, true);
    assertSame(b, Codecs.wire(StepBatch.class).transform(b));
    RunSummary s = summary();
    assertSame(s, Codecs.wire(RunSummary.class).transform(s));
  }

  @Test
  void namesAndLocalTypes() {
    assertEquals("losswatch-StepBatch-v2", Codecs.wire(StepBatch.class).name());
    assertEquals(-1, Codecs.wire(StepBatch.class).systemCodecID());
    assertThrows(IllegalArgumentException.class, () -> Codecs.wire(Written.class));
  }

  @Test
  void aTornBufferFailsWithoutAllocatingItsLength() {
    Buffer b = Codecs.wire(StepBatch.class).encode(batch("r", 0, 100, false));
    assertThrows(IndexOutOfBoundsException.class, () -> Codecs.wire(StepBatch.class).decode(b.getBuffer(0, b.length() - 1)));
    Buffer huge = Buffer.buffer().appendInt(1).appendString("r").appendInt(0).appendInt(Integer.MAX_VALUE);
    assertThrows(IllegalArgumentException.class, () -> Codecs.wire(StepBatch.class).decode(huge));
  }

  /** Encodes after a prefix (Vert.x decodes at an offset), decodes, compares field by field; returns the copy. */
  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T value) {
    WireCodec<T> codec = Codecs.wire((Class<T>) value.getClass());
    Buffer b = Buffer.buffer("header");
    codec.encodeToWire(b, value);
    T copy = codec.decodeFromWire("header".length(), b);
    assertFieldsEqual(value, copy);
    assertFieldsEqual(value, codec.decode(codec.encode(value)));   // and nothing is left over
    return copy;
  }

  /** Records component by component, doubles by raw bits, arrays and collections by content, specs by JSON. */
  static void assertFieldsEqual(Object want, Object got) {
    if (want == null || got == null) {
      assertSame(want, got);
    } else if (want instanceof Double d) {
      assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits((Double) got), want + " vs " + got);
    } else if (want instanceof double[] a) {
      double[] g = (double[]) got;
      assertEquals(a.length, g.length);
      for (int i = 0; i < a.length; i++) assertFieldsEqual(a[i], g[i]);
    } else if (want instanceof long[] a) {
      assertArrayEquals(a, (long[]) got);
    } else if (want instanceof RunSpec s) {
      assertEquals(Json.write(s.json()), Json.write(((RunSpec) got).json()));
      assertEquals(s.name(), ((RunSpec) got).name());
    } else if (want instanceof State s) {
      assertArrayEquals(s.toBytes(), ((State) got).toBytes());
    } else if (want instanceof List<?> l) {
      List<?> g = (List<?>) got;
      assertEquals(l.size(), g.size());
      for (int i = 0; i < l.size(); i++) assertFieldsEqual(l.get(i), g.get(i));
    } else if (want instanceof Map<?, ?> m) {
      assertEquals(new ArrayList<>(m.keySet()), new ArrayList<>(((Map<?, ?>) got).keySet()));   // in order
      for (Map.Entry<?, ?> e : m.entrySet()) assertFieldsEqual(e.getValue(), ((Map<?, ?>) got).get(e.getKey()));
    } else if (want instanceof Record) {
      assertSame(want.getClass(), got.getClass());
      try {
        for (RecordComponent c : want.getClass().getRecordComponents()) {
          assertFieldsEqual(c.getAccessor().invoke(want), c.getAccessor().invoke(got));
        }
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
    } else {
      assertEquals(want, got);
    }
  }

  /** {@code n} steps with NaN, infinities, signed zeros and an odd NaN among them; with metrics, two columns. */
  static StepBatch batch(String run, int cycle, int n, boolean metrics) {
    StepBatch.Builder b = new StepBatch.Builder(Math.max(1, n));
    double[] odd = {Double.NaN, ODD_NAN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, Double.MIN_VALUE};
    for (int i = 0; i < n; i++) {
      b.add(i + 1, i % 7 == 0 ? odd[i % odd.length] : 1.0 / (i + 1), 1e-3 * i, -i, 1_700_000_000_000L + i);
      if (metrics && i % 3 == 0) b.metric("val_loss", i * 0.5);
      if (metrics) b.metric("acc \u03b1", i % 5 == 0 ? ODD_NAN : i / (double) n);
      if (metrics && i % 4 == 3) b.curvature(i == 3 ? ODD_NAN : 2.0 * i, i == 7 ? Double.POSITIVE_INFINITY : -0.0);
    }
    return b.build(run, cycle);
  }

  static RunSummary summary() {
    Map<String, Object> json = new LinkedHashMap<>(SPEC.json());
    return new RunSummary("r1", RunSpec.from(json).withName("branch"), RunState.PAUSED, 3, 1234, ODD_NAN, 0.01, Double.NaN,
        Double.NEGATIVE_INFINITY, 12.5, 1L, 2L,
        new Diagnosis(Verdict.OSCILLATING, null, 0.001, 900, "bounces \u2191\u2193", ODD_NAN),
        List.of(new LrChange(10, 0.1, 0.01, "set"), new LrChange(20, 0.01, Double.NaN, null)), RunSummary.STORAGE,
        "parent", 1000, List.of(new Rewind(1100, 1000, 0.01, 0.001, "spike")),
        new RunSummary.Curvature(1200, 5.7, 2, ODD_NAN, true), new ScriptReport(3, 600, 1.5, 0.1, "sets the lr"));
  }
}
