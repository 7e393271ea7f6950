package io.losswatch.cluster;

import io.losswatch.event.ClusterSummary;
import io.losswatch.event.Events;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.vertx.core.eventbus.EventBus;
import java.util.function.Consumer;

/**
 * The other nodes' runs, seen on this one: a run in the registry per run of theirs, with its summary as its owner
 * tells it (and no step: those come only while a client here follows the run, {@link Following}), re-told on
 * {@link Events#MIRRORED} so this node's clients hear of it like one of its own. Runs on the cluster verticle's
 * event loop.
 */
final class Mirrors {
  private final EventBus bus;
  private final RunRegistry runs;
  private final Consumer<Run> moved;

  /** {@code moved}: a run of another node that another node owns now (taken over, or its node came back). */
  Mirrors(EventBus bus, RunRegistry runs, Consumer<Run> moved) {
    this.bus = bus;
    this.runs = runs;
    this.moved = moved;
  }

  /** Node {@code from} tells the summary of one of its runs (and its metrics' stats, when it knows them). */
  void summary(String from, ClusterSummary c) {
    RunSummary s = c.summary();
    Run run = runs.get(s.id()).orElse(null);
    if (run != null && run.local()) return;   // this node took it over: its old owner's news is stale
    if (s.state() == RunState.DELETED) {
      if (run != null) runs.remove(s.id());
    } else if (run == null) {
      run = runs.mirror(s, from);
    } else {
      boolean elsewhere = !from.equals(run.owner());   // its node came back, or another took it over
      if (!elsewhere && s.updated() < run.summary().updated()) return;   // older than news already here
      run.mirror(s, from);
      if (elsewhere) moved.accept(run);
    }
    if (run != null && c.metrics() != null) run.mirror(c.metrics());
    retell(s);
  }

  /** Node {@code node} left the cluster: its runs are lost, here and for this node's clients. */
  void left(String node) {
    long now = System.currentTimeMillis();
    for (Run run : runs.all()) {
      if (!node.equals(run.owner()) || run.summary().state() == RunState.LOST) continue;
      RunSummary lost = run.summary().withState(RunState.LOST, now);
      run.mirror(lost, node);
      retell(lost);
    }
  }

  void retell(RunEvent event) {
    bus.publish(Events.MIRRORED, event, Events.LOCAL);
  }
}
