package io.losswatch.train;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunSummary;
import io.losswatch.store.RunHistory;

/**
 * A run as the rest of the server sees it: its spec, its history, and its latest summary. The summary is an
 * immutable snapshot that only the run's verticle replaces; anyone may read it from any thread.
 */
public final class Run {
  private final String id;
  private final RunSpec spec;
  private final boolean demo;
  private final RunHistory history;
  private volatile RunSummary summary;
  private volatile String deploymentId;
  private volatile int cycle;

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

  /** Demo runs start over when they end, so a dashboard opened at any time shows motion. */
  public boolean demo() {
    return demo;
  }

  public RunHistory history() {
    return history;
  }

  /**
   * How many times the run started over. Readers take it before reading the history: then a restart they
   * miss shows as a newer cycle later, never as a history that went backwards unnoticed.
   */
  public int cycle() {
    return cycle;
  }

  /** Starts a new cycle: the count first, then the history is emptied. */
  void startOver() {
    cycle++;
    history.clear();
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
