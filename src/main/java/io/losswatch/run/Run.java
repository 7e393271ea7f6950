package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.event.MetricSummary;
import io.losswatch.event.RunSummary;
import io.losswatch.history.RunHistory;
import java.util.Map;

/**
 * A run as the rest of the server sees it: its spec, its history, and its latest summary. The summary is an
 * immutable snapshot that only the run's verticle replaces (for another node's run, this node's mirror of it);
 * anyone may read it from any thread.
 */
public final class Run {
  /** The extra scalars (a script's metrics) a run may have in all: each is a column on disk. */
  public static final int MAX_METRICS = 64;
  private final String id;
  private volatile RunSpec spec;   // changes only in its tags and notes
  private final boolean demo;
  private final RunHistory history;
  private volatile RunSummary summary;
  private volatile String deploymentId;
  private volatile String owner;   // the node that owns it, when that is another node (null: this one)
  private volatile Map<String, MetricSummary> toldMetrics = Map.of();   // another node's run's, as its owner told them

  Run(String id, RunSpec spec, boolean demo, RunHistory history, RunSummary summary) {
    this.id = id;
    this.spec = spec;
    this.demo = demo;
    this.history = history;
    this.summary = summary;
  }

  public String id() {
    return id;
  }

  public RunSpec spec() {
    return spec;
  }

  /**
   * Its tags and notes changed: the spec every later summary carries. Only {@link RunManager#describe} calls it,
   * and then has the change told (by the run's verticle when it has one, so no older summary follows it).
   */
  void describe(io.losswatch.core.Description d) {
    spec = spec.with(d);
  }

  /** Demo runs start over when they end, so a dashboard opened at any time shows motion. */
  public boolean demo() {
    return demo;
  }

  /** Its steps, for a run this node owns; another node's run keeps none here (read them through {@link Steps}). */
  public RunHistory history() {
    return history;
  }

  /**
   * How many times the run started over (demo runs do, and a guard's rewinds); every batch and history read carries
   * it. Another node's run's, as its latest summary says.
   */
  public int cycle() {
    return local() ? history.cycle() : summary.cycle();
  }

  /** The run's last step (0 before its first): another node's, as its latest summary says (at most a second old). */
  public long lastStep() {
    return local() ? history.lastStep() : summary.step();
  }

  /** Starts a new cycle: an empty history, counted. */
  void startOver() {
    history.clear();
  }

  public RunSummary summary() {
    return summary;
  }

  void summary(RunSummary s) {
    summary = s;
  }

  /** The cluster node that owns this run, null when it is this node; else this is that node's run, seen here. */
  public String owner() {
    return owner;
  }

  public boolean local() {
    return owner == null;
  }

  /** Another node's run's summary as its owner told it (or as this node saw its owner leave). */
  public void mirror(RunSummary s, String node) {
    summary = s;
    owner = node;
  }

  /** Another node's run's metrics' stats as its owner told them with its summary (immutable, in its order). */
  public void mirror(Map<String, MetricSummary> metrics) {
    toldMetrics = metrics;
  }

  /**
   * Each metric's last, lowest and highest value, by name: this node's run's from its history (a restored run's
   * first call reads its log: off the event loop), another node's as its owner last told them (a second old at most).
   */
  public Map<String, MetricSummary> metricStats() {
    return local() ? history.metricStats() : toldMetrics;
  }

  public String deploymentId() {
    return deploymentId;
  }

  void deploymentId(String id) {
    deploymentId = id;
  }
}
