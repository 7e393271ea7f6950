package io.losswatch.cluster;

import io.losswatch.event.Events;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * This node's runs' summaries, told to every other node for their lists: a change of state (or of cycle, or a
 * deletion) at once, anything else (a step taken, a diagnosis refreshed) at most once a run a second, the newest. So
 * what every node takes in grows with the cluster's runs, never with their steps. Runs on the cluster verticle's
 * event loop.
 */
final class Summaries {
  static final long EVERY_MS = 1000;
  private final EventBus bus;
  private final RunRegistry runs;
  private final DeliveryOptions fromMe;
  /** The last summary told of each run, and when. */
  private final Map<String, Told> told = new HashMap<>();
  /** The runs that changed since they were last told, oldest first. */
  private final Set<String> changed = new LinkedHashSet<>();

  private record Told(RunSummary summary, long at) {
  }

  Summaries(EventBus bus, RunRegistry runs, DeliveryOptions fromMe) {
    this.bus = bus;
    this.runs = runs;
    this.fromMe = fromMe;
  }

  /** A run of this node published its summary. */
  void summary(RunSummary s, long now) {
    Told last = told.get(s.id());
    if (last == null || s.state() != last.summary.state() || s.cycle() != last.summary.cycle()
        || now - last.at >= EVERY_MS) {
      tell(s, now);
    } else {
      changed.add(s.id());
    }
  }

  /** A run of this node took steps: its summary (which the run keeps, unpublished) is told within the second. */
  void stepped(String run) {
    changed.add(run);
  }

  /** Tells the summaries whose second is up; called every tick. */
  void tick(long now) {
    for (Iterator<String> i = changed.iterator(); i.hasNext(); ) {
      String id = i.next();
      Told last = told.get(id);
      if (last != null && now - last.at < EVERY_MS) continue;
      i.remove();
      Run run = runs.get(id).filter(Run::local).orElse(null);
      if (run != null && (last == null || run.summary() != last.summary)) tell(run.summary(), now);
    }
  }

  /** Every run of this node, now (to the nodes already up, when this one joins). */
  void all(long now) {
    for (Run r : runs.local()) tell(r.summary(), now);
  }

  private void tell(RunSummary s, long now) {
    changed.remove(s.id());
    if (s.state() == RunState.DELETED) told.remove(s.id());
    else told.put(s.id(), new Told(s, now));
    bus.publish(Events.CLUSTER, s, fromMe);
  }
}
