package io.losswatch.cluster;

import io.losswatch.event.ClusterSummary;
import io.losswatch.event.Events;
import io.losswatch.event.MetricSummary;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * This node's runs' summaries, told to every other node for their lists: a change of state (or of cycle, or a
 * deletion) at once, anything else (a step taken, a diagnosis refreshed, a metric's new value) at most once a run a
 * second, the newest. Each goes with the run's metrics' stats (their last, lowest and highest values), which the other
 * nodes cannot read themselves: they keep none of its steps. So what every node takes in grows with the cluster's
 * runs, never with their steps. Runs on the cluster verticle's event loop.
 */
final class Summaries {
  private static final Logger LOG = Logger.getLogger(Summaries.class.getName());
  static final long EVERY_MS = 1000;
  private final Vertx vertx;
  private final RunRegistry runs;
  private final DeliveryOptions fromMe;
  /** The last summary told of each run, with its metrics' stats, and when. */
  private final Map<String, Told> told = new HashMap<>();
  /** The runs that changed since they were last told, oldest first. */
  private final Set<String> changed = new LinkedHashSet<>();
  /** Runs read back from disk whose metrics' stats are being read from their logs (off the event loop). */
  private final Set<String> reading = new HashSet<>();

  private record Told(RunSummary summary, Map<String, MetricSummary> metrics, long at) {
  }

  Summaries(Vertx vertx, RunRegistry runs, DeliveryOptions fromMe) {
    this.vertx = vertx;
    this.runs = runs;
    this.fromMe = fromMe;
  }

  /** A run of this node published its summary. */
  void summary(RunSummary s, long now) {
    Told last = told.get(s.id());
    if (last == null || s.state() != last.summary.state() || s.cycle() != last.summary.cycle()
        || now - last.at >= EVERY_MS) {
      tell(s, s.state() == RunState.DELETED ? null : metrics(s.id()), now);
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
      Run run = local(id);
      if (run == null) continue;
      Map<String, MetricSummary> metrics = metrics(id);
      if (last == null || run.summary() != last.summary || !Objects.equals(metrics, last.metrics)) {
        tell(run.summary(), metrics, now);
      }
    }
  }

  /** Every run of this node, now (to the nodes already up, when this one joins). */
  void all(long now) {
    for (Run r : runs.local()) tell(r.summary(), metrics(r.id()), now);
  }

  /** Every run of this node as it stands (to a node that joins and asks). */
  List<ClusterSummary> list() {
    return runs.local().stream().map(r -> new ClusterSummary(r.summary(), metrics(r.id()))).toList();
  }

  private void tell(RunSummary s, Map<String, MetricSummary> metrics, long now) {
    changed.remove(s.id());
    if (s.state() == RunState.DELETED) told.remove(s.id());
    else told.put(s.id(), new Told(s, metrics, now));
    vertx.eventBus().publish(Events.CLUSTER, new ClusterSummary(s, metrics), fromMe);
  }

  private Run local(String id) {
    return runs.get(id).filter(Run::local).orElse(null);
  }

  /**
   * Run {@code id}'s metrics' stats, null when they are not known yet (a run read back from disk): then they are read
   * from its log, one run at a time off the event loop, and told within the second after.
   */
  private Map<String, MetricSummary> metrics(String id) {
    Run run = local(id);
    if (run == null) return null;
    Map<String, MetricSummary> known = run.history().knownMetricStats();
    if (known == null && reading.add(id)) {
      vertx.executeBlocking(() -> run.history().metricStats(), true).onComplete(ar -> {
        reading.remove(id);
        if (ar.succeeded()) changed.add(id);
        else LOG.log(Level.WARNING, "cannot read the metrics of run " + id + " from its log", ar.cause());
      });
    }
    return known;
  }
}
