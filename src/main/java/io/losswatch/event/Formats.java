package io.losswatch.event;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.core.state.State;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How each event that crosses nodes is laid out: for every type, a writer and a reader of the same name, the
 * fields in the same order. Java evaluates arguments left to right, so a reader is just the constructor call.
 */
final class Formats {
  private Formats() {
  }

  /**
   * run, cycle, n, then the columns step, loss, lr, gradNorm and t (8 bytes a value each), then the metrics:
   * how many, and each one's name and column; then whether the curvature columns follow (1 or 0), and if so
   * sharpness and stability. 40 bytes a step, 8 more per metric, 16 more with the curvature.
   */
  static void stepBatch(WireOut o, StepBatch b) {
    int n = b.size();
    b.metrics().forEach((name, column) -> {   // checked first: the reader takes every column to be n long
      if (column.length != n) throw new IllegalArgumentException("metric " + name + " has " + column.length + " values for " + n + " steps");
    });
    o.str(b.run()).i32(b.cycle()).i32(n)
        .longs(b.step()).doubles(b.loss()).doubles(b.lr()).doubles(b.gradNorm()).longs(b.t())
        .i32(b.metrics().size());
    b.metrics().forEach((name, column) -> o.str(name).doubles(column));
    o.i32(b.hasCurvature() ? 1 : 0);
    if (b.hasCurvature()) o.doubles(b.sharpness()).doubles(b.stability());
  }

  static StepBatch stepBatch(WireIn in) {
    String run = in.str();
    int cycle = in.i32();
    int n = in.count();
    long[] step = in.longs(n);
    double[] loss = in.doubles(n);
    double[] lr = in.doubles(n);
    double[] grad = in.doubles(n);
    long[] t = in.longs(n);
    Map<String, double[]> metrics = metrics(in, n);
    boolean curvature = in.i32() == 1;
    return new StepBatch(run, cycle, step, loss, lr, grad, t, metrics, curvature ? in.doubles(n) : null,
        curvature ? in.doubles(n) : null);
  }

  private static Map<String, double[]> metrics(WireIn in, int n) {
    int count = in.count();
    if (count == 0) return Map.of();
    Map<String, double[]> m = new LinkedHashMap<>();   // in the sender's order, the order a chart shows them in
    for (int i = 0; i < count; i++) m.put(in.str(), in.doubles(n));
    return Collections.unmodifiableMap(m);
  }

  /** The spec as its JSON text: it is what the spec was made from, and the receiver validates it as any spec. */
  static void runSummary(WireOut o, RunSummary s) {
    o.str(s.id()).str(s.spec() == null ? null : Json.write(s.spec().json())).name(s.state()).i32(s.cycle())
        .i64(s.step()).f64(s.loss()).f64(s.lr()).f64(s.gradNorm()).f64(s.bestLoss()).f64(s.stepsPerSecond())
        .i64(s.created()).i64(s.updated());
    diagnosis(o, s.diagnosis());
    o.list(s.lrChanges(), Formats::lrChange).str(s.reason()).str(s.parent()).i64(s.branchedAt())
        .list(s.rewinds(), Formats::rewind).i32(s.curvature() == null ? 0 : 1);
    RunSummary.Curvature c = s.curvature();
    if (c != null) o.i64(c.step()).f64(c.sharpness()).f64(c.threshold()).f64(c.stability()).i32(c.preconditioned() ? 1 : 0);
    o.list(s.script() == null ? List.of() : List.of(s.script()), Formats::scriptReport);
  }

  static RunSummary runSummary(WireIn in) {
    return new RunSummary(in.str(), spec(in.str()), in.name(RunState.class), in.i32(), in.i64(), in.f64(), in.f64(),
        in.f64(), in.f64(), in.f64(), in.i64(), in.i64(), diagnosis(in), in.list(Formats::lrChange), in.str(), in.str(),
        in.i64(), in.list(Formats::rewind), in.i32() == 1 ? curvature(in) : null,
        in.list(Formats::scriptReport).stream().findFirst().orElse(null));
  }

  private static RunSummary.Curvature curvature(WireIn in) {
    return new RunSummary.Curvature(in.i64(), in.f64(), in.f64(), in.f64(), in.i32() == 1);
  }

  /** A script's report: its probes and auto_lr's scope (its curvature is the summary's own). */
  static void scriptReport(WireOut o, ScriptReport r) {
    o.i32(r.probes()).i64(r.probeSteps()).f64(r.probeSeconds()).f64(r.budget()).str(r.autoLr());
  }

  static ScriptReport scriptReport(WireIn in) {
    return new ScriptReport(in.i32(), in.i64(), in.f64(), in.f64(), in.str());
  }

  /**
   * Specs read off the wire, by their text: a run's spec never changes, and every node reads each other node's runs'
   * summaries once a second, so each is parsed once, not every second (RunSpec is immutable). Emptied when it grows
   * past {@link #SPECS_KEPT}.
   */
  private static final java.util.concurrent.ConcurrentHashMap<String, RunSpec> SPECS = new java.util.concurrent.ConcurrentHashMap<>();
  static final int SPECS_KEPT = 20_000;

  private static RunSpec spec(String json) {
    if (json == null) return null;
    RunSpec known = SPECS.get(json);
    if (known != null) return known;
    RunSpec s = RunSpec.from(Json.parse(json));
    if (SPECS.size() >= SPECS_KEPT) SPECS.clear();
    SPECS.put(json, s);
    return s;
  }

  static void diagnosis(WireOut o, Diagnosis d) {
    o.name(d.verdict()).str(d.advice()).f64(d.suggestedLr()).i64(d.sinceStep()).str(d.evidence()).f64(d.retryLr());
  }

  static Diagnosis diagnosis(WireIn in) {
    return new Diagnosis(in.name(Verdict.class), in.str(), in.f64(), in.i64(), in.str(), in.f64());
  }

  static void lrChange(WireOut o, LrChange c) {
    o.i64(c.step()).f64(c.from()).f64(c.to()).str(c.cause());
  }

  static LrChange lrChange(WireIn in) {
    return new LrChange(in.i64(), in.f64(), in.f64(), in.str());
  }

  static void rewind(WireOut o, Rewind r) {
    o.i64(r.at()).i64(r.to()).f64(r.lrBefore()).f64(r.lrAfter()).str(r.why());
  }

  static Rewind rewind(WireIn in) {
    return new Rewind(in.i64(), in.i64(), in.f64(), in.f64(), in.str());
  }

  static void runCommand(WireOut o, RunCommand c) {
    o.name(c.kind()).f64(c.lr()).i64(c.step());
  }

  static RunCommand runCommand(WireIn in) {
    return new RunCommand(in.name(RunCommand.Kind.class), in.f64(), in.i64());
  }

  static void alert(WireOut o, Alert a) {
    o.str(a.run()).str(a.name()).name(a.kind()).i64(a.step()).str(a.message()).f64(a.suggestedLr()).i64(a.time());
  }

  static Alert alert(WireIn in) {
    return new Alert(in.str(), in.str(), in.name(Alert.Kind.class), in.i64(), in.str(), in.f64(), in.i64());
  }

  /** The steps, then each acknowledgement (a probe's outcomes with it), the cycle, and the curvature's facts if sent. */
  static void append(WireOut o, Append a) {
    stepBatch(o, a.steps());
    o.list(a.acks(), (out, k) -> out.str(k.id()).i64(k.step()).str(k.error())
        .list(k.outcomes(), (w, x) -> w.f64(x.factor()).f64(x.endLoss()).i32(x.finite() ? 1 : 0).str(x.error()))
        .f64(k.seconds()).str(k.refused()));
    o.i32(a.cycle()).i32(a.curvature() == null ? -1 : a.curvature().preconditioned() ? 1 : 0)
        .f64(a.curvature() == null ? Double.NaN : a.curvature().threshold());
  }

  static Append append(WireIn in) {
    StepBatch steps = stepBatch(in);
    List<Append.Ack> acks = in.list(i -> new Append.Ack(i.str(), i.i64(), i.str(),
        i.list(x -> new Append.Outcome(x.f64(), x.f64(), x.i32() == 1, x.str())), i.f64(), i.str()));
    int cycle = in.i32();
    int preconditioned = in.i32();
    double threshold = in.f64();
    return new Append(steps, acks, cycle, preconditioned < 0 ? null : new Append.Curvature(preconditioned == 1, threshold));
  }

  static void appended(WireOut o, Appended a) {
    o.i64(a.accepted()).i64(a.duplicates()).i64(a.skipped()).i64(a.lastStep())
        .list(a.commands(), (out, c) -> out.str(c.id()).str(c.op()).f64(c.lr()).f64(c.factor()).str(c.reason()).i64(c.toStep())
            .i32(c.factors().length).doubles(c.factors()).i32(c.horizon()));
  }

  static Appended appended(WireIn in) {
    return new Appended(in.i64(), in.i64(), in.i64(), in.i64(),
        in.list(i -> new Appended.Command(i.str(), i.str(), i.f64(), i.f64(), i.str(), i.i64(), i.doubles(i.count()), i.i32())));
  }

  static void finish(WireOut o, Finish f) {
    o.name(f.state()).str(f.message());
  }

  static Finish finish(WireIn in) {
    return new Finish(in.name(RunState.class), in.str());
  }

  /** The state in its own checkpoint format, which keeps every bit. */
  static void fork(WireOut o, Fork f) {
    o.bytes(f.state().toBytes()).i64(f.from()).i64(f.to()).list(f.changes(), Formats::lrChange);
  }

  static Fork fork(WireIn in) {
    return new Fork(State.fromBytes(in.bytes()), in.i64(), in.i64(), in.list(Formats::lrChange));
  }

  /**
   * The summary, then its metrics' stats: how many (-1: not known, so not told), and each one's name, step, last,
   * lowest and highest value (36 bytes and the name a metric).
   */
  static void clusterSummary(WireOut o, ClusterSummary c) {
    runSummary(o, c.summary());
    Map<String, MetricSummary> m = c.metrics();
    o.i32(m == null ? -1 : m.size());
    if (m != null) m.forEach((name, s) -> o.str(name).i64(s.step()).f64(s.last()).f64(s.min()).f64(s.max()));
  }

  static ClusterSummary clusterSummary(WireIn in) {
    RunSummary s = runSummary(in);
    int n = in.i32();
    if (n < 0) return new ClusterSummary(s, null);
    Map<String, MetricSummary> m = new LinkedHashMap<>();   // in the owner's order, the order its list shows them in
    for (int i = 0; i < n; i++) m.put(in.str(), new MetricSummary(in.i64(), in.f64(), in.f64(), in.f64()));
    return new ClusterSummary(s, Collections.unmodifiableMap(m));
  }

  static void runList(WireOut o, RunList l) {
    o.list(l.runs(), Formats::clusterSummary);
  }

  static RunList runList(WireIn in) {
    return new RunList(in.list(Formats::clusterSummary));
  }

  static void historyRead(WireOut o, HistoryRead r) {
    o.str(r.run()).i64(r.from()).i64(r.to()).i32(r.maxPoints()).i32(r.count()).i32(r.stretch()).i32(r.metrics() ? 1 : 0);
  }

  static HistoryRead historyRead(WireIn in) {
    return new HistoryRead(in.str(), in.i64(), in.i64(), in.i32(), in.i32(), in.i32(), in.i32() == 1);
  }

  static void follow(WireOut o, Follow f) {
    o.str(f.run()).str(f.node()).i32(f.every() ? 1 : 0).f64(f.hz()).i64(f.seq());
  }

  static Follow follow(WireIn in) {
    return new Follow(in.str(), in.str(), in.i32() != 0, in.f64(), in.i64());
  }

  /** A bucket's points as a batch. */
  static void bucket(WireOut o, Bucket b) {
    stepBatch(o, b.points());
  }

  static Bucket bucket(WireIn in) {
    return new Bucket(stepBatch(in));
  }
}
