package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunSummary;
import io.losswatch.history.RunHistory;

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

  public RunHistory history() {
    return history;
  }

  /** How many times the run started over (demo runs do); every batch and history read carries it. */
  public int cycle() {
    return history.cycle();
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

  /** The cluster node that owns this run, null when it is this node: then this is a mirror of the owner's run. */
  public String owner() {
    return owner;
  }

  public boolean local() {
    return owner == null;
  }

  /** A mirror's summary as its owner told it (or as this node saw its owner leave). */
  public void mirror(RunSummary s, String node) {
    summary = s;
    owner = node;
  }

  public String deploymentId() {
    return deploymentId;
  }

  void deploymentId(String id) {
    deploymentId = id;
  }
}
