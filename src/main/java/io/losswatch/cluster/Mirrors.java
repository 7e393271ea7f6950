package io.losswatch.cluster;

import io.losswatch.event.Alert;
import io.losswatch.event.Events;
import io.losswatch.event.HistoryRead;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The other nodes' runs, seen on this one: a mirror per run in the registry, its summary as the owner tells it and
 * its steps in memory, re-told on {@link Events#MIRRORED} so this node's clients follow it like one of its own.
 * A mirror first reads the owner's history in chunks (request/reply) while the owner's new batches wait here,
 * then takes those batches as they come: every step once, in order. Runs on one event loop (the cluster verticle's).
 */
final class Mirrors {
  private static final Logger LOG = Logger.getLogger(Mirrors.class.getName());
  /** Steps per history read from an owner (about 2.6 MB on the wire). */
  static final int CHUNK = 1 << 16;
  private static final DeliveryOptions READ = new DeliveryOptions().setSendTimeout(10_000);
  private final Vertx vertx;
  private final EventBus bus;
  private final RunRegistry runs;
  /** Runs whose history is being read from their owner, with the batches that came meanwhile. */
  private final Map<String, Filling> filling = new HashMap<>();

  private static final class Filling {
    final List<StepBatch> waiting = new ArrayList<>();
  }

  Mirrors(Vertx vertx, RunRegistry runs) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.runs = runs;
  }

  /** Something node {@code from} told about one of its runs. */
  void told(String from, RunEvent event) {
    event.tell(new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        Mirrors.this.batch(b);
      }

      @Override public void summary(RunSummary s) {
        Mirrors.this.summary(from, s);
      }

      @Override public void alert(Alert a) {
        if (runs.get(a.run()).filter(r -> !r.local()).isPresent()) retell(a);
      }
    });
  }

  void summary(String from, RunSummary s) {
    Run run = runs.get(s.id()).orElse(null);
    if (run != null && run.local()) return;   // this node took it over: its old owner's news is stale
    if (s.state() == RunState.DELETED) {
      if (run != null) runs.remove(s.id());
      filling.remove(s.id());
    } else if (run == null) {
      fill(runs.mirror(s, from), s.cycle());
    } else {
      boolean moved = !from.equals(run.owner());   // its node came back, or another took it over
      if (!moved && s.updated() < run.summary().updated()) return;   // a node's list, older than news already here
      run.mirror(s, from);
      if (moved || s.cycle() > run.history().cycle()) fill(run, s.cycle());
    }
    retell(s);
  }

  private void batch(StepBatch b) {
    Run run = runs.get(b.run()).orElse(null);
    if (run == null || run.local()) return;   // its summary comes first; a run this node took over is its own
    Filling f = filling.get(b.run());
    if (f != null) f.waiting.add(b);
    else take(run, b);
  }

  /** A batch in the mirror's history, then to this node's clients. */
  private void take(Run run, StepBatch b) {
    RunHistory h = run.history();
    if (b.cycle() < h.cycle()) return;
    if (b.cycle() > h.cycle()) {
      if (b.firstStep() > 1) {   // rewound: the new cycle keeps steps this node must read again
        fill(run, b.cycle());
        filling.get(run.id()).waiting.add(b);
        return;
      }
      h.clear(b.cycle());   // started over
    }
    StepBatch fresh = after(b, h.lastStep());
    if (fresh == null) return;
    h.append(fresh);
    retell(fresh);
  }

  /** Reads the run's history of cycle {@code cycle} from its owner, from the start; batches wait meanwhile. */
  private void fill(Run run, int cycle) {
    Filling f = new Filling();
    Filling before = filling.put(run.id(), f);
    if (before != null) f.waiting.addAll(before.waiting);
    run.history().clear(cycle);
    read(run, f, 1);
  }

  private void read(Run run, Filling f, long from) {
    bus.<StepBatch>request(Events.node(run.owner(), "history"), new HistoryRead(run.id(), from, CHUNK), READ)
        .onComplete(ar -> {
          if (filling.get(run.id()) != f) return;   // filled afresh, deleted or lost meanwhile
          if (ar.failed() && !(ar.cause() instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE)) {
            LOG.warning("run " + run.id() + ": node " + run.owner() + " did not answer for its steps from " + from
                + " (" + ar.cause().getMessage() + "); asking again");   // a busy owner; a departed one's runs are lost
            vertx.setTimer(1000, t -> {
              if (filling.get(run.id()) == f) read(run, f, from);
            });
            return;
          }
          StepBatch b = ar.succeeded() ? ar.result().body() : null;
          if (b != null && b.cycle() > run.history().cycle()) {
            fill(run, b.cycle());
            return;
          }
          if (b != null && b.size() > 0 && b.cycle() == run.history().cycle()) {
            StepBatch fresh = after(b, run.history().lastStep());
            if (fresh != null) run.history().append(fresh);
            read(run, f, b.lastStep() + 1);
            return;
          }
          filling.remove(run.id());   // caught up (or the owner has it no more: its deletion follows)
          for (StepBatch w : f.waiting) take(run, w);
        });
  }

  /** Node {@code node} left the cluster: its runs are lost, here and for this node's clients. */
  void left(String node) {
    long now = System.currentTimeMillis();
    for (Run run : runs.all()) {
      if (!node.equals(run.owner()) || run.summary().state() == RunState.LOST) continue;
      filling.remove(run.id());
      RunSummary lost = run.summary().withState(RunState.LOST, now);
      run.mirror(lost, node);
      retell(lost);
    }
  }

  private void retell(RunEvent event) {
    bus.publish(Events.MIRRORED, event, Events.LOCAL);
  }

  /** The batch's steps after step {@code last} (null when it has none). */
  static StepBatch after(StepBatch b, long last) {
    if (b.firstStep() > last) return b;
    int i = Arrays.binarySearch(b.step(), last + 1);
    int from = i >= 0 ? i : -i - 1;
    return from >= b.size() ? null : b.from(from);
  }
}
