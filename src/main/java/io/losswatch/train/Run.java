package io.losswatch.train;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunSummary;
import io.losswatch.store.StepHistory;

/**
 * A run as the rest of the server sees it: its spec, its history, and its latest summary. The summary is an
 * immutable snapshot that only the run's verticle replaces; anyone may read it from any thread.
 */
public final class Run {
  private final String id;
  private final RunSpec spec;
  private final boolean demo;
  private final StepHistory history;
  private volatile RunSummary summary;
  private volatile String deploymentId;

  Run(String id, RunSpec spec, boolean demo, long now) {
    this.id = id;
    this.spec = spec;
    this.demo = demo;
    this.history = new StepHistory(id);
    this.summary = RunSummary.created(id, spec, now);
  }

  public String id() {
    return id;
  }

  public RunSpec spec() {
    return spec;
  }

  /** Demo runs start over when they end, so a dashboard opened at any time shows motion. */
  public boolean demo() {
    return demo;
  }

  public StepHistory history() {
    return history;
  }

  public RunSummary summary() {
    return summary;
  }

  void summary(RunSummary s) {
    summary = s;
  }

  public String deploymentId() {
    return deploymentId;
  }

  void deploymentId(String id) {
    deploymentId = id;
  }
}
