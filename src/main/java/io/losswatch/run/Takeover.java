package io.losswatch.run;

import io.losswatch.event.Events;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.StepLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs this node takes back: its own, read from disk after a restart, and those of a node that left the cluster.
 * Either way a run's diagnosis is rebuilt from its history, and an external run its script may still be feeding
 * gets its verticle back.
 */
final class Takeover {
  private static final Logger LOG = Logger.getLogger(Takeover.class.getName());
  private final Vertx vertx;
  private final RunRegistry runs;
  private final RunFiles store;
  private final Set<String> adopting = ConcurrentHashMap.newKeySet();

  Takeover(Vertx vertx, RunRegistry runs, RunFiles store) {
    this.vertx = vertx;
    this.runs = runs;
    this.store = store;
  }

  /**
   * After a restart: rebuilds every run's diagnosis from its history (off the event loop), so a verdict does
   * not go back to unknown, and takes back the external runs the restart interrupted: their scripts may still
   * be going, and their next append makes them run again (their diagnoser goes on from the replayed steps).
   * Any other run cannot change any more: its diagnosis says it ended.
   */
  Future<Void> interrupted() {
    List<Run> restored = runs.all();
    return vertx.executeBlocking(() -> restored.stream().map(this::takeBack).filter(a -> a.life() != null).toList(), false)
        .compose(adopted -> Future.all(adopted.stream()
            .map(a -> vertx.deployVerticle(a.life()).onSuccess(a.run()::deploymentId)).toList())).mapEmpty();
  }

  /**
   * Rebuilds a restored run's diagnosis from its history (it blocks); an external run a stop interrupted gets its
   * lifecycle back (to deploy), any other run cannot change any more: its diagnosis says it ended.
   */
  private Adopted takeBack(Run run) {
    RunState state = run.summary().state();
    RunPolicy policy;
    try {
      policy = RunPolicy.replayed(run.spec(), run.history(), run.summary());
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cannot rebuild the diagnosis of run " + run.id() + ": " + e.getMessage());
      policy = new RunPolicy(run.spec());
    }
    boolean script = run.spec().external() && state == RunState.INTERRUPTED;
    if (!script) policy.end(run.history().lastStep(), state.label());
    run.summary(run.summary().withDiagnosis(policy.shown()));
    return new Adopted(run, script ? RunLifecycle.script(run, policy, false) : null);
  }

  /**
   * Takes over a run whose node left the cluster, from the data folder the nodes share (an external one, failing that,
   * from this node's mirror of it): it becomes this node's,
   * {@code interrupted} (an external one runs again at its script's next append; a built-in one can be resumed
   * from its checkpoint). Fails with 409 when its files are not here; a run that is this node's already is as is.
   */
  Future<Run> adopt(Run mirror) {
    if (mirror.local()) return Future.succeededFuture(mirror);
    if (mirror.summary().state() != RunState.LOST) {
      return Future.failedFuture(Forks.conflict(mirror, "belongs to a node of the cluster that is up: ask that node"));
    }
    if (!adopting.add(mirror.id())) {
      return Future.failedFuture(RunRefusal.of(RunRefusal.Kind.UNAVAILABLE,
          "run " + mirror.id() + " is being taken over by this node; send it again"));
    }
    return vertx.executeBlocking(() -> {
      RunFiles.Restored r = store.adopt(mirror.id());
      if (r == null && mirror.spec().external()) r = fromMirror(mirror);
      if (r == null) throw Forks.conflict(mirror, "was lost with its node, and its files are not in this node's data folder");
      return takeBack(runs.restore(r));
    }, false).compose(a -> {
      Events.publish(vertx.eventBus(), a.run().summary());
      return a.life() == null ? Future.succeededFuture(a.run())
          : vertx.deployVerticle(a.life()).map(d -> {
            a.run().deploymentId(d);
            return a.run();
          });
    }).onComplete(x -> adopting.remove(mirror.id()));
  }

  /** A run taken back, with the lifecycle to deploy for it (null: it cannot change any more). */
  private record Adopted(Run run, RunLifecycle life) {
  }

  /**
   * An external run whose files went with its node: its files made afresh here from the steps this node mirrored
   * (its script sends again whatever it sent after them).
   */
  private RunFiles.Restored fromMirror(Run mirror) throws IOException {
    RunSummary s = mirror.summary().withState(RunState.INTERRUPTED, System.currentTimeMillis());
    StepLog log = store.create(s);
    for (long from = 1; ; ) {
      StepBatch b = mirror.history().head(from, 65_536);
      if (b.size() == 0) break;
      log.append(b);
      from = b.lastStep() + 1;
    }
    log.force();
    return new RunFiles.Restored(s, log, List.of());
  }

}
