package io.losswatch.store;

import io.losswatch.history.Columns;
import io.losswatch.history.RunHistory;
import io.losswatch.history.StepLog;
import io.losswatch.event.Append;
import io.losswatch.event.Checkpoint;
import io.losswatch.event.Events;
import io.losswatch.event.LrChange;
import io.losswatch.event.RunState;
import io.losswatch.event.Rewound;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.event.Written;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Writes every batch of every persisted run to its log, and each change of a run's state to its
 * {@code run.json}. Deployed as a worker: the file I/O never touches an event loop.
 *
 * <p>After each write it tells the run how far its steps are on disk ({@link Written}); a run waits when it
 * gets {@link RunHistory#MAX_UNWRITTEN} steps ahead, so what is queued here stays bounded. A write that fails
 * (a full disk) is reported to the run once, which pauses; the run's batches are kept and tried again every
 * {@link #RETRY_MS} until they go through, from the exact step where writing stopped.
 *
 * <p>Durability: logs are forced (fsync) every {@link #FORCE_MS} and when their run ends; {@code run.json}
 * is forced on every write. A kill loses only what was not yet written; a power cut, at most the last
 * {@link #FORCE_MS} besides.
 */
public final class StoreVerticle extends VerticleBase {
  static final long FORCE_MS = 2000;
  static final long RETRY_MS = 500;
  private static final Logger LOG = Logger.getLogger(StoreVerticle.class.getName());
  private final RunStore store;
  /** Runs whose writes failed: the batches not yet written, oldest first. */
  private final Map<String, ArrayDeque<StepBatch>> failing = new HashMap<>();
  /** The newest summary of each run whose run.json could not be written. */
  private final Map<String, RunSummary> unrecorded = new HashMap<>();
  private final Map<String, RunState> recorded = new HashMap<>();
  private final java.util.concurrent.atomic.AtomicBoolean forcing = new java.util.concurrent.atomic.AtomicBoolean();
  private final Map<String, Checkpoint> waitingCheckpoints = new HashMap<>();
  private final Map<String, List<LrChange>> recordedChanges = new HashMap<>();
  /** How a script's run measures its curvature, as run.json says (its script sends it only when it changes). */
  private final Map<String, Append.Curvature> recordedCurvature = new HashMap<>();
  private final Map<String, Object> recordedSpecs = new HashMap<>();   // the spec JSON run.json has (tags, notes change)

  public StoreVerticle(RunStore store) {
    this.store = store;
  }

  @Override
  public Future<?> start() {
    // forced on a thread of their own: a hundred logs take hundreds of fsyncs, and the writes must not wait on
    // them (a run waits for its writes); one force at a time
    vertx.setPeriodic(FORCE_MS, id -> {
      if (forcing.compareAndSet(false, true)) {
        vertx.executeBlocking(() -> {
          store.force();
          return null;
        }, false).onComplete(x -> forcing.set(false));
      }
    });
    vertx.setPeriodic(RETRY_MS, id -> retry());
    return Events.listen(vertx.eventBus(), Events.RUNS, new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        write(b);
      }

      @Override public void summary(RunSummary s) {
        record(s);
      }

      @Override public void checkpoint(Checkpoint c) {
        keep(c);
      }

      @Override public void rewound(Rewound r) {
        rewind(r);
      }
    }).completion();
  }

  private void write(StepBatch b) {
    StepLog log = store.log(b.run());
    if (log == null) return;   // not persisted (a demo run), or already deleted
    ArrayDeque<StepBatch> queue = failing.get(b.run());
    if (queue != null) {
      queue.add(b);   // behind the ones that failed; the run has been told to pause
      return;
    }
    try {
      log.append(b);
      tell(b.run(), log, null);
    } catch (IOException e) {
      queue = new ArrayDeque<>();
      queue.add(b);
      failing.put(b.run(), queue);
      String why = reason(e);
      LOG.warning("run " + b.run() + ": cannot write its steps after step " + log.lastStep() + " (" + why
          + "); the run is paused and its steps are kept until they can be written");
      tell(b.run(), log, why);
    }
  }

  /** Tries the failed writes again, each run's from where it stopped; a run that catches up is told so. */
  private void retry() {
    for (Iterator<Map.Entry<String, ArrayDeque<StepBatch>>> it = failing.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, ArrayDeque<StepBatch>> e = it.next();
      StepLog log = store.log(e.getKey());
      try {
        while (!e.getValue().isEmpty()) {
          log.append(e.getValue().peek());
          e.getValue().poll();
        }
      } catch (IOException stillFull) {
        continue;
      }
      it.remove();
      LOG.info("run " + e.getKey() + ": writing again, " + log.count() + " steps on disk");
      Checkpoint c = waitingCheckpoints.remove(e.getKey());
      if (c != null) keep(c);
      tell(e.getKey(), log, null);
      if (!recorded.getOrDefault(e.getKey(), RunState.CREATED).isLive()) close(log);
    }
    for (Iterator<RunSummary> it = unrecorded.values().iterator(); it.hasNext(); ) {
      if (writeMeta(it.next())) it.remove();
    }
  }

  /**
   * Keeps a run's snapshot once every step up to it is on disk; while its writes fail, the newest waits and is
   * kept when they catch up.
   */
  private void keep(Checkpoint c) {
    StepLog log = store.log(c.run());
    if (log == null) return;
    if (failing.containsKey(c.run()) || log.lastStep() < c.step()) {
      waitingCheckpoints.put(c.run(), c);
      return;
    }
    try {
      store.writeSnapshot(c.run(), c.state());
    } catch (IOException e) {
      LOG.warning("run " + c.run() + ": cannot keep its snapshot at step " + c.step() + ": " + reason(e));
    }
  }

  /** Cuts a run's log back for its guard (every step before the rewind is on disk by now) and says how far it is. */
  private void rewind(Rewound r) {
    StepLog log = store.log(r.run());
    if (log == null) return;
    try {
      store.rewind(r.run(), r.index(), r.to(), r.abandoned());
      tell(r.run(), log, null);
    } catch (IOException e) {
      // the run's next steps would land behind stale ones: it is told it cannot write, and pauses
      LOG.warning("run " + r.run() + ": cannot cut its log back to step " + r.to() + ": " + reason(e));
      tell(r.run(), log, "cannot rewind its log: " + reason(e));
    }
  }

  private void record(RunSummary s) {
    String id = s.id();
    if (s.state() == RunState.DELETED) {
      failing.remove(id);
      waitingCheckpoints.remove(id);
      recordedChanges.remove(id);
      recordedCurvature.remove(id);
      recordedSpecs.remove(id);
      unrecorded.remove(id);
      recorded.remove(id);
      try {
        store.delete(id);
      } catch (IOException e) {
        LOG.warning("run " + id + ": cannot remove its files: " + reason(e));
      }
      return;
    }
    StepLog log = store.log(id);
    // run.json follows the state, the lr changes (a resume goes on with them), the tags and notes, and a script's
    // curvature facts, not every step
    RunSummary.Curvature c = s.curvature();
    Append.Curvature curvature = s.script() == null || c == null ? null : new Append.Curvature(c.preconditioned(), c.threshold());
    if (log == null || recorded.getOrDefault(id, RunState.CREATED) == s.state()
        && recordedChanges.getOrDefault(id, s.lrChanges()).equals(s.lrChanges())
        && recordedSpecs.getOrDefault(id, s.spec().json()) == s.spec().json()
        && java.util.Objects.equals(recordedCurvature.get(id), curvature) && !unrecorded.containsKey(id)) {
      return;
    }
    recorded.put(id, s.state());
    recordedChanges.put(id, s.lrChanges());
    recordedSpecs.put(id, s.spec().json());
    if (curvature != null) recordedCurvature.put(id, curvature);
    // an ended run's last batch came before this summary: its log is complete, durable and closed
    if (!s.state().isLive() && !failing.containsKey(id)) close(log);
    if (writeMeta(s)) unrecorded.remove(id);
    else unrecorded.put(id, s);
  }

  private boolean writeMeta(RunSummary s) {
    try {
      store.writeMeta(s);
      return true;
    } catch (IOException e) {
      if (!unrecorded.containsKey(s.id())) LOG.warning("run " + s.id() + ": cannot write run.json: " + reason(e));
      return false;
    }
  }

  private void close(StepLog log) {
    try {
      log.closeWriter();
    } catch (IOException e) {
      LOG.warning("cannot force " + log.dir() + ": " + reason(e));
    }
  }

  private void tell(String run, StepLog log, String fault) {
    vertx.eventBus().send(Events.written(run), new Written(run, log.count(), log.lastStep(), fault));
  }

  private static String reason(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
